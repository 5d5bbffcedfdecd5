"""Every secret the operations create is searched for everywhere it must not be: the audit log, every
log record at DEBUG (SDKs included), results, plans, reprs and error texts, and the sandbox's
request log. Only `Secret.reveal()` and the files the user asked for may hold it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from acr_console.azure.errors import AzureCallError
from acr_console.azure.registry_token import try_registry_login
from acr_console.operations import (
    AuditLog,
    CreatePrincipalRequest,
    ResetCredentialRequest,
    RevokeRequest,
    create_result,
    prepare,
    run_plan,
)
from acr_console.secret import Secret
from tests.support.handover import reads_for

from ..support.key_leaks import KeyNeedles
from .conftest import LEGACY_REGISTRY, unique


async def test_no_secret_leaks_anywhere(az: Any, audit: AuditLog, sandbox_server: Any, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seq = sandbox_server.sandbox.store.last_request_seq()
    key_file = tmp_path / "key.pem"
    secrets: list[str] = []
    texts: list[str] = []

    created = await run_plan(az, await prepare(CreatePrincipalRequest(
        unique("hygiene"), LEGACY_REGISTRY, "AcrPush", out=str(tmp_path / "first.json")), reads_for(az)), audit=audit)
    assert created.ok
    doc = create_result(created.plan)
    secrets.append(created.secrets["password"].reveal())
    reset = await run_plan(az, await prepare(ResetCredentialRequest(doc["appId"]), reads_for(az)), audit=audit)
    secrets.append(reset.secrets["password"].reveal())
    cert = await run_plan(az, await prepare(CreatePrincipalRequest(
        unique("hygiene-cert"), LEGACY_REGISTRY, "AcrPull", certificate="generate", out=str(key_file)), reads_for(az)),
        audit=audit)
    # Searched for by the key's own private bytes (tests/support/key_leaks.py), not by a PEM line that
    # may hold only the public modulus, which the certificate carries too.
    key = KeyNeedles.of_pem(cert.secrets["privateKeyPem"].reveal())
    revoked = await run_plan(az, await prepare(RevokeRequest(doc["appId"], registry=LEGACY_REGISTRY,
                                                             remove_credentials=True, disable=True), reads_for(az)),
                             audit=audit)
    assert revoked.ok
    try:
        await try_registry_login(az, doc["loginServer"], doc["appId"], Secret(secrets[0]), ())
    except AzureCallError as err:
        texts += [str(err), repr(err), err.message]

    for outcome in (created, reset, cert, revoked):
        texts += [json.dumps(outcome.to_json()), repr(outcome), repr(outcome.plan), repr(outcome.plan.context.values),
                  repr(outcome.secrets), outcome.summary()]
        texts += [str(r.error) for r in outcome.results.values() if r.error]
    texts.append(audit.path.read_text())
    texts.append(caplog.text)
    texts += [json.dumps(r) for r in sandbox_server.sandbox.store.request_log(seq)]
    haystack = "\n".join(texts)
    for secret in secrets:
        assert secret and secret not in haystack
    assert key.found_in(haystack) == []
    # The places the user asked for do hold it.
    assert secrets[0] in (tmp_path / "first.json").read_text()
    assert key.found_in(key_file.read_text())
