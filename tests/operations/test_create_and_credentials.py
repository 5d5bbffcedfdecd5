"""Create principals and manage their credentials against the sandbox, then prove the result the way
users will: sign in with the unmodified azure-identity credentials and get a registry token."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from acr_console.azure import writes_arm, writes_graph
from acr_console.azure.clients import AzureClients
from acr_console.azure.errors import AzureCallError
from acr_console.azure.registry_token import try_registry_login, try_registry_login_with_entra_token
from acr_console.certificates import generate_self_signed
from acr_console.models import CredentialOwner
from acr_console.operations import (
    AddCertificateRequest,
    AuditLog,
    CreatePrincipalRequest,
    InputError,
    Outcome,
    RemoveCredentialRequest,
    ResetCredentialRequest,
    StepStatus,
    create_result,
    prepare,
    run_plan,
)
from acr_console.secret import Secret
from tests.support.handover import reads_for

from .conftest import ABAC_REGISTRY, LEGACY_REGISTRY, unique
from .helpers import sign_in_refused, token_with_certificate, token_with_secret

PUSH = "repository:team/app:pull,push"


async def create(az: AzureClients, audit: AuditLog, **kw: Any) -> Outcome:
    req = CreatePrincipalRequest(**{"name": unique(), "registry": LEGACY_REGISTRY, "role": "AcrPush", **kw})
    plan = await prepare(req, reads_for(az))
    outcome = await run_plan(az, plan, audit=audit)
    assert outcome.ok, outcome.to_json()
    return outcome


async def passwords(az: AzureClients, owner: CredentialOwner, object_id: str) -> set[str]:
    doc = await writes_graph.get_credential_owner(az, owner, object_id)
    return {p["keyId"] for p in (doc or {}).get("passwordCredentials") or []}


async def test_create_with_password_signs_in_and_gets_a_push_token(
        az: AzureClients, audit: AuditLog, connection: dict[str, Any]) -> None:
    outcome = await create(az, audit)
    doc = create_result(outcome.plan)
    assert set(doc) >= {"appId", "displayName", "tenant", "applicationObjectId", "servicePrincipalObjectId",
                        "loginServer", "role", "scope", "dockerLogin", "azLogin"}
    assert doc["tenant"] == connection["tenant_id"] and doc["loginServer"] == "contosoprod.azurecr.io"
    assert doc["scope"].endswith("/registries/contosoprod") and doc["role"] == "AcrPush"
    # application, service principal, password, hand-over, role: the role only after the hand-over
    assert [r.status for r in outcome.results.values()] == [StepStatus.DONE] * 5
    assert outcome.plan.step("role").depends_on == ("service-principal", "hand-over")
    secret = outcome.secrets["password"]
    assert token_with_secret(connection, doc["appId"], secret.reveal())
    token = await try_registry_login(az, doc["loginServer"], doc["appId"], secret, (PUSH,))
    assert token.verified and not token.missing
    assert {a for g in token.granted for a in g.actions} >= {"pull", "push"}
    assert secret.reveal() not in audit.path.read_text()
    (record,) = audit.read()
    assert record["operation"] == "create-principal" and record["result"] == "ok"
    assert record["tenant"] == connection["tenant_id"] and record["correlationIds"]


async def test_create_with_generated_certificate(az: AzureClients, audit: AuditLog, connection: dict[str, Any],
                                                 tmp_path: Path) -> None:
    out = tmp_path / "sp.pem"
    outcome = await create(az, audit, certificate="generate", out=str(out), years=1)
    doc = create_result(outcome.plan)
    assert doc["certificateFile"] == str(out) and "password" not in doc
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert b"PRIVATE KEY" in out.read_bytes() and b"CERTIFICATE" in out.read_bytes()
    token = token_with_certificate(connection, doc["appId"], out)
    result = await try_registry_login_with_entra_token(az, doc["loginServer"], Secret(token),
                                                       connection["tenant_id"], (PUSH,))
    assert result.verified and not result.missing
    assert out.read_text() not in audit.path.read_text()


async def test_abac_registry_roles(az: AzureClients, audit: AuditLog, sandbox_server: Any) -> None:
    seq = sandbox_server.sandbox.store.last_request_seq()
    with pytest.raises(InputError, match="not honour"):
        await prepare(CreatePrincipalRequest(unique(), ABAC_REGISTRY, "AcrPush"), reads_for(az))
    assert not writes_since(sandbox_server, seq)
    outcome = await create(az, audit, registry=ABAC_REGISTRY, role="Container Registry Repository Writer")
    doc = create_result(outcome.plan)
    token = await try_registry_login(az, doc["loginServer"], doc["appId"], outcome.secrets["password"], (PUSH,))
    assert not token.missing


async def test_existing_application_name_stops_the_create(az: AzureClients, audit: AuditLog) -> None:
    outcome = await create(az, audit)
    name = outcome.plan.target["displayName"]
    with pytest.raises(InputError, match="already exists"):
        await prepare(CreatePrincipalRequest(str(name), LEGACY_REGISTRY, "AcrPull"), reads_for(az))


async def test_reset_appends_by_default_and_replace_keeps_only_the_new(
        az: AzureClients, audit: AuditLog, connection: dict[str, Any]) -> None:
    outcome = await create(az, audit)
    doc = create_result(outcome.plan)
    app_oid, first = doc["applicationObjectId"], outcome.secrets["password"]
    appended = await run_plan(az, await prepare(ResetCredentialRequest(doc["appId"]), reads_for(az)), audit=audit)
    assert appended.ok
    second = appended.secrets["password"]
    assert len(await passwords(az, CredentialOwner.APPLICATION, app_oid)) == 2
    for secret in (first, second):
        assert token_with_secret(connection, doc["appId"], secret.reveal())

    plan = await prepare(ResetCredentialRequest(doc["appId"], replace=True, display_name="rotated"), reads_for(az))
    removals = [s for s in plan.steps if s.id.startswith("remove-")]
    assert len(removals) == 2 and all("expires" in s.description for s in removals)
    # only after the new one exists and was handed over
    assert all(s.depends_on == ("add-password", "hand-over") for s in removals)
    replaced = await run_plan(az, plan, audit=audit)
    assert replaced.ok
    third = replaced.secrets["password"]
    assert await passwords(az, CredentialOwner.APPLICATION, app_oid) == {replaced.detail("add-password", "keyId")}
    assert token_with_secret(connection, doc["appId"], third.reveal())
    for old in (first, second):
        assert sign_in_refused(connection, doc["appId"], old.reveal()) == "AADSTS7000215"
    # Executing the same plan again changes nothing.
    again = await run_plan(az, plan, audit=audit)
    assert all(r.status is StepStatus.ALREADY_DONE for r in again.results.values())
    text = audit.path.read_text()
    assert not any(s.reveal() in text for s in (first, second, third))


async def test_reset_on_the_service_principal_object(az: AzureClients, audit: AuditLog,
                                                     connection: dict[str, Any]) -> None:
    outcome = await create(az, audit)
    doc = create_result(outcome.plan)
    req = ResetCredentialRequest(doc["appId"], on=CredentialOwner.SERVICE_PRINCIPAL)
    plan = await prepare(req, reads_for(az))
    assert any("App registrations" in w for w in plan.warnings)
    result = await run_plan(az, plan, audit=audit)
    assert result.ok
    assert len(await passwords(az, CredentialOwner.SERVICE_PRINCIPAL, doc["servicePrincipalObjectId"])) == 1
    assert len(await passwords(az, CredentialOwner.APPLICATION, doc["applicationObjectId"])) == 1
    assert token_with_secret(connection, doc["appId"], result.secrets["password"].reveal())


async def test_add_certificate_keeps_existing_keys(az: AzureClients, audit: AuditLog, connection: dict[str, Any],
                                                   tmp_path: Path) -> None:
    first = tmp_path / "first.pem"
    outcome = await create(az, audit, certificate="generate", out=str(first))
    doc = create_result(outcome.plan)
    second = tmp_path / "second.pem"
    plan = await prepare(AddCertificateRequest(doc["appId"], generate=True, out=str(second)), reads_for(az))
    assert len(plan.untouched) == 1 and "keeps every existing" in plan.untouched[0].why
    assert (await run_plan(az, plan, audit=audit)).ok
    # A third, uploaded from a public certificate file (no key in it).
    third = generate_self_signed("third", not_after=outcome.started.replace(year=outcome.started.year + 1))
    public = tmp_path / "third.crt"
    public.write_bytes(third.pem[third.pem.index(b"-----BEGIN CERTIFICATE"):])
    plan = await prepare(AddCertificateRequest(doc["appId"], file=str(public)), reads_for(az))
    result = await run_plan(az, plan, audit=audit)
    assert result.ok
    keys = await writes_graph.key_credentials_of(az, CredentialOwner.APPLICATION, doc["applicationObjectId"])
    assert len(keys) == 3
    for pem in (first, second):
        assert token_with_certificate(connection, doc["appId"], pem)
    again = await run_plan(az, plan, audit=audit)
    assert again.results["add-certificate"].status is StepStatus.ALREADY_DONE
    with pytest.raises(InputError, match="already on the application"):
        await prepare(AddCertificateRequest(doc["appId"], file=str(public)), reads_for(az))


async def test_remove_credential_by_key_id(az: AzureClients, audit: AuditLog, connection: dict[str, Any]) -> None:
    outcome = await create(az, audit)
    doc = create_result(outcome.plan)
    key_id = doc["passwordKeyId"]
    plan = await prepare(RemoveCredentialRequest(doc["appId"], key_id), reads_for(az))
    result = await run_plan(az, plan, audit=audit)
    assert result.ok
    assert await passwords(az, CredentialOwner.APPLICATION, doc["applicationObjectId"]) == set()
    assert sign_in_refused(connection, doc["appId"], outcome.secrets["password"].reveal())
    with pytest.raises(AzureCallError) as err:
        await prepare(RemoveCredentialRequest(doc["appId"], key_id), reads_for(az))
    assert err.value.exit_code == 3


def writes_since(sandbox_server: Any, seq: int) -> list[dict[str, Any]]:
    """Requests that change something, logged by the sandbox after `seq` (sign-ins and reads excluded)."""
    reads = ("/oauth2/", "getByIds", "$batch")
    return [r for r in sandbox_server.sandbox.store.request_log(seq)
            if r["method"] != "GET" and not any(x in r["path"] for x in reads)]


async def test_add_certificate_with_addkey_proof(az: AzureClients, audit: AuditLog, connection: dict[str, Any],
                                                 tmp_path: Path, sandbox_server: Any) -> None:
    first = tmp_path / "first.pem"
    outcome = await create(az, audit, certificate="generate", out=str(first))
    doc = create_result(outcome.plan)
    second = tmp_path / "second.pem"
    seq = sandbox_server.sandbox.store.last_request_seq()
    req = AddCertificateRequest(doc["appId"], generate=True, out=str(second), proof=str(first))
    plan = await prepare(req, reads_for(az))
    assert "addKey" in plan.steps[-1].description
    result = await run_plan(az, plan, audit=audit)
    assert result.ok, result.to_json()
    assert any(r["path"].endswith("/addKey") for r in sandbox_server.sandbox.store.request_log(seq))
    for pem in (first, second):
        assert token_with_certificate(connection, doc["appId"], pem)
    # A proof from a certificate the application does not have is refused before anything is sent.
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(generate_self_signed("stranger", not_after=outcome.finished.replace(
        year=outcome.finished.year + 1)).pem)
    with pytest.raises(InputError, match="not on the application"):
        await prepare(AddCertificateRequest(doc["appId"], generate=True, out=str(tmp_path / "x.pem"),
                                            proof=str(stranger)), reads_for(az))


async def test_create_with_an_existing_certificate_file(az: AzureClients, audit: AuditLog, connection: dict[str, Any],
                                                        tmp_path: Path) -> None:
    bundle = generate_self_signed("bring-your-own", not_after=datetime.now(UTC) + timedelta(days=90))
    key_and_cert = tmp_path / "mine.pem"
    key_and_cert.write_bytes(bundle.pem)
    outcome = await create(az, audit, certificate=str(key_and_cert), role="AcrPull")
    doc = create_result(outcome.plan)
    assert doc["certificateFile"] == str(key_and_cert) and doc["thumbprint"] == bundle.info.thumbprint
    assert "privateKeyPem" not in outcome.secrets  # the key never left the file
    assert token_with_certificate(connection, doc["appId"], key_and_cert)


async def test_role_assignment_exists_counts_as_done(az: AzureClients, audit: AuditLog) -> None:
    outcome = await create(az, audit, role="AcrPull")
    doc = create_result(outcome.plan)
    role_def = writes_arm.role_definition_id(doc["scope"].split("/")[2], "7f951dda-4ed3-4680-a7ca-43fe172d538d")
    ra, receipt = await writes_arm.create_role_assignment(az, doc["scope"], role_def, doc["servicePrincipalObjectId"])
    assert receipt.already and ra.id == outcome.detail("role", "assignmentId")
