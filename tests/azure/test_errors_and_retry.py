"""The Azure layer's one error translation, its one "not found", and its one retry loop.

The exceptions are the SDKs' own classes, built as the SDKs build them; nothing here stands in for a
service (the request paths are tested against the sandbox in test_request_paths.py)."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError
from azure.identity import CredentialUnavailableError
from msgraph.generated.models.o_data_errors.main_error import MainError
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from acr_console.azure.errors import (
    AzureCallError,
    SignInError,
    from_exception,
    is_not_found,
    translated,
)
from acr_console.azure.retry import REPLICATION, Again, Backoff, retrying
from acr_console.errors import EXIT_NOT_FOUND

# -- translation by type -------------------------------------------------------------------------


def test_a_refused_sign_in() -> None:
    err = from_exception(ClientAuthenticationError("AADSTS7000215: Invalid client secret provided.\nTrace ID: x"))
    assert isinstance(err, SignInError) and err.code == "AADSTS7000215"
    assert err.message == "AADSTS7000215: Invalid client secret provided."


def test_an_unavailable_credential() -> None:
    err = from_exception(CredentialUnavailableError("Azure CLI not found on path"), "sign in")
    assert isinstance(err, SignInError) and (err.code, err.operation) == ("CredentialUnavailable", "sign in")


def test_graphs_error_object() -> None:
    exc = ODataError()
    exc.error = MainError(code="Request_ResourceNotFound", message="gone")
    exc.response_status_code = 404
    err = from_exception(exc, "GET applications/x")
    assert (err.code, err.message, err.status, err.not_found) == ("Request_ResourceNotFound", "gone", 404, True)


def test_an_arm_error_without_a_body() -> None:
    err = from_exception(HttpResponseError(message="boom\nsecond line"))
    assert (err.code, err.message) == ("HttpError", "boom")


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                 ServiceRequestError("no route"), TimeoutError("late")])
def test_every_transport_failure_reads_the_same(exc: Exception) -> None:
    assert from_exception(exc).code == "ConnectionFailed"


def test_a_lookalike_class_name_is_not_an_sdk_error() -> None:
    class ClientAuthenticationError(Exception):  # named like azure-core's, on purpose
        pass

    err = from_exception(ClientAuthenticationError("no"))
    assert not isinstance(err, SignInError) and err.code == "ClientAuthenticationError"


def test_translation_never_imports_an_sdk() -> None:
    """An exception of a class whose module was never imported cannot occur: the check is free."""
    code = ("import sys; from acr_console.azure.errors import from_exception; from_exception(ValueError('x')); "
            "print(sorted(m for m, mod in sys.modules.items() if mod is not None and m.split('.')[0] in "
            "('azure', 'msgraph', 'kiota_abstractions', 'httpx', 'aiohttp')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_translated_keeps_the_console_s_own_errors() -> None:
    own = AzureCallError("InvalidScope", "no", 400)
    with pytest.raises(AzureCallError) as info, translated("op"):
        raise own
    assert info.value is own
    with pytest.raises(AzureCallError) as info, translated("read it"):
        raise httpx.ConnectError("refused")
    assert (info.value.code, info.value.operation, info.value.__suppress_context__) == (
        "ConnectionFailed", "read it", True)


# -- not found -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "status", "gone"), [
    ("Request_ResourceNotFound", 404, True),
    ("ResourceNotFound", 404, True),
    ("RoleAssignmentNotFound", 404, True),
    ("RoleDefinitionDoesNotExist", 404, True),
    ("ItemNotFound", 404, True),
    ("SomethingNew", 404, True),
    ("BadRequest", 404, False),  # a path Graph does not know: a bug to report, not a missing object
    ("InvalidResourceType", 404, False),  # the same on ARM
    ("Request_BadRequest", 400, False),
    ("AuthorizationFailed", 403, False),
])
def test_not_found(code: str, status: int, gone: bool) -> None:
    assert is_not_found(code, status) is gone
    assert AzureCallError(code, "m", status).not_found is gone


def test_any_404_still_exits_not_found() -> None:
    assert AzureCallError("InvalidResourceType", "m", 404).exit_code == EXIT_NOT_FOUND


LOCAL_TENANT = ("When using this permission, the backing application of the service principal being created must "
                "in the local tenant")


@pytest.mark.parametrize(("code", "status", "message", "lagging"), [
    ("PrincipalNotFound", 400, "Principal abc does not exist in the directory", True),
    ("Request_BadRequest", 400, "The appId 'x' of the service principal does not reference a valid application", True),
    # Graph sends it as 403 (Azure/azure-cli#28009); azure-cli retries on the message whatever the status.
    ("Authorization_RequestDenied", 403, LOCAL_TENANT, True),
    ("Request_BadRequest", 400, LOCAL_TENANT, True),
    ("Authorization_RequestDenied", 403, "Insufficient privileges to complete the operation.", False),
    ("Request_BadRequest", 400, "Invalid value", False),
    ("Request_ResourceNotFound", 404, "Resource 'x' does not exist or one of its queried reference-property objects "
                                      "are not present.", False),
])
def test_not_replicated(code: str, status: int, message: str, lagging: bool) -> None:
    assert AzureCallError(code, message, status).not_replicated is lagging


def test_a_replica_that_lags_is_not_called_a_missing_permission() -> None:
    lagging = AzureCallError("Authorization_RequestDenied", LOCAL_TENANT, 403, operation="POST servicePrincipals")
    assert lagging.hint is not None and "replica" in lagging.hint and "permission" not in lagging.hint
    refused = AzureCallError("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", 403,
                             operation="POST servicePrincipals")
    assert refused.hint is not None and "Application.ReadWrite.All" in refused.hint


# -- the retry loop ------------------------------------------------------------------------------


class Waits:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def test_tries_until_an_answer() -> None:
    sleep, tries = Waits(), []

    async def attempt() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise httpx.ConnectError("dropped")
        return "ok"

    assert await retrying(attempt, backoff=Backoff(0.5, 30), attempts=5, sleep=sleep,
                          retry_on=lambda exc: isinstance(exc, httpx.ConnectError)) == "ok"
    assert len(tries) == 3 and len(sleep.waits) == 2


async def test_backs_off_exponentially_with_jitter_to_a_cap() -> None:
    sleep = Waits()

    async def attempt() -> None:
        raise Again()

    with pytest.raises(Again):
        await retrying(attempt, backoff=Backoff(1.0, 10.0), attempts=7, sleep=sleep)
    assert len(sleep.waits) == 6
    for n, wait in enumerate(sleep.waits, start=1):
        assert min(2.0 ** (n - 1), 10.0) <= wait <= min(2.0 ** (n - 1) + 1.0, 10.0)


async def test_a_retry_after_wins_over_the_backoff() -> None:
    sleep, answers = Waits(), iter([Again(7.0), Again(0.0)])

    async def attempt() -> str:
        answer = next(answers, None)
        if answer is not None:
            raise answer
        return "ok"

    assert await retrying(attempt, backoff=REPLICATION, attempts=3, sleep=sleep) == "ok"
    assert sleep.waits == [7.0, 0.0]


async def test_gives_up_at_once_on_what_it_is_not_told_to_retry() -> None:
    sleep, tries = Waits(), []

    async def attempt() -> None:
        tries.append(1)
        raise AzureCallError("AuthorizationFailed", "no", 403)

    with pytest.raises(AzureCallError, match="AuthorizationFailed"):
        await retrying(attempt, backoff=REPLICATION, deadline_s=60, sleep=sleep,
                       retry_on=lambda exc: isinstance(exc, AzureCallError) and exc.not_replicated)
    assert len(tries) == 1 and sleep.waits == []


async def test_a_deadline_ends_before_a_wait_would_pass_it() -> None:
    sleep, tries = Waits(), []

    async def attempt() -> None:
        tries.append(1)
        raise AzureCallError("PrincipalNotFound", "not yet", 400)

    # The first wait is at least REPLICATION.first_s, already past this deadline: one try, no wait,
    # and the service's own error, not a wrapper.
    with pytest.raises(AzureCallError, match="PrincipalNotFound"):
        await retrying(attempt, backoff=REPLICATION, deadline_s=REPLICATION.first_s / 2, sleep=sleep,
                       retry_on=lambda exc: isinstance(exc, AzureCallError))
    assert len(tries) == 1 and sleep.waits == []


def test_a_first_try_that_succeeds_never_loads_tenacity() -> None:
    """Every Graph request passes through the loop: its happy path must cost nothing."""
    code = ("import asyncio, sys; from acr_console.azure.retry import TRANSIENT, retrying\n"
            "async def ok() -> int: return 1\n"
            "assert asyncio.run(retrying(ok, backoff=TRANSIENT, attempts=3)) == 1\n"
            "print('tenacity' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
