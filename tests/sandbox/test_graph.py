"""Microsoft Graph v1.0 in the sandbox, through the unmodified msgraph-sdk: the model path for a few
objects and the raw-JSON path (`send_primitive_async`) for the rest, as the console uses them."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.seed import stable_id

from .graph_support import (
    der_b64,
    graph_client,
    raw,
    self_signed,
    ssl_context,
    sync_secret_credential,
    unique,
)

DEMO_ADMIN_SP = stable_id("contoso", "admin", "sp")


async def odata_error(coro: Any) -> ODataError:
    with pytest.raises(ODataError) as info:
        await coro
    return info.value


def code_of(err: ODataError) -> str | None:
    return err.error.code if err.error is not None else None


# -- applications and service principals, model path ---------------------------------------------


async def test_create_application_and_service_principal_with_models(connection: dict[str, Any]) -> None:
    from msgraph.generated.models.application import Application
    from msgraph.generated.models.service_principal import ServicePrincipal

    name = unique("models")
    async with graph_client(connection) as graph:
        app = await graph.applications.post(Application(display_name=name, sign_in_audience="AzureADMyOrg",
                                                        tags=["acr-console"]))
        assert app is not None and app.id and app.app_id and app.display_name == name
        sp = await graph.service_principals.post(ServicePrincipal(app_id=app.app_id))
        assert sp is not None and sp.app_id == app.app_id and sp.account_enabled is True
        assert sp.service_principal_type == "Application"
        by_app_id = await graph.applications_with_app_id(app.app_id).get()
        assert by_app_id is not None and by_app_id.id == app.id
        got = await graph.service_principals.by_service_principal_id(sp.id).get()
        assert got is not None and got.display_name == name
        # One service principal per application in a tenant.
        err = await odata_error(graph.service_principals.post(ServicePrincipal(app_id=app.app_id)))
        assert err.response_status_code == 409
        assert code_of(err) == "Request_MultipleObjectsWithSameKeyValue"
        # An appId without an application: the message the CLI retries on while replicating.
        orphan = ServicePrincipal(app_id=stable_id("no", "app"))
        err = await odata_error(graph.service_principals.post(orphan))
        assert err.response_status_code == 400 and "does not reference" in str(err.error.message)


async def test_add_password_shows_the_secret_once_and_keeps_only_a_hash(
    connection: dict[str, Any], sandbox_server: Any
) -> None:
    from msgraph.generated.applications.item.add_password.add_password_post_request_body import (
        AddPasswordPostRequestBody,
    )
    from msgraph.generated.models.application import Application
    from msgraph.generated.models.password_credential import PasswordCredential

    async with graph_client(connection) as graph:
        app = await graph.applications.post(Application(display_name=unique("secret")))
        cred = await graph.applications.by_application_id(app.id).add_password.post(
            AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="ci")))
        assert cred is not None and cred.secret_text and len(cred.secret_text) >= 16
        assert cred.hint == cred.secret_text[:3]
        # Graph's default lifetime: two years.
        assert cred.end_date_time - cred.start_date_time == timedelta(days=730)
        again = await graph.applications.by_application_id(app.id).get()
        assert again is not None and again.password_credentials
        assert [c.secret_text for c in again.password_credentials] == [None]
        assert again.password_credentials[0].hint == cred.hint
    db = Path(sandbox_server.data_dir) / "sandbox.db"
    blob = b"".join(p.read_bytes() for p in db.parent.glob("sandbox.db*"))
    assert cred.secret_text.encode() not in blob


async def test_add_password_with_dates_and_remove_password(connection: dict[str, Any]) -> None:
    async with graph_client(connection) as graph:
        app = await raw(graph, "POST", "applications", {"displayName": unique("dates")})
        end = datetime.now(UTC) + timedelta(days=30)
        cred = await raw(graph, "POST", f"applications/{app['id']}/addPassword",
                         {"passwordCredential": {"displayName": "short", "endDateTime": end.isoformat()}})
        assert cred["endDateTime"].startswith(end.strftime("%Y-%m-%dT%H:%M"))
        assert cred["@odata.context"].endswith("#microsoft.graph.passwordCredential")
        remove = {"keyId": cred["keyId"]}
        assert await raw(graph, "POST", f"applications/{app['id']}/removePassword", remove) is None
        doc = await raw(graph, "GET", f"applications/{app['id']}")
        assert doc["passwordCredentials"] == []
        err = await odata_error(raw(graph, "POST", f"applications/{app['id']}/removePassword",
                                    {"keyId": cred["keyId"]}))
        assert err.response_status_code == 400 and cred["keyId"] in str(err.error.message)
        err = await odata_error(raw(graph, "POST", f"applications/{app['id']}/addPassword",
                                    {"passwordCredential": {"endDateTime": "not a date"}}))
        assert code_of(err) == "Request_BadRequest" and "endDateTime" in str(err.error.message)


async def test_service_principal_passwords_patch_and_delete(connection: dict[str, Any]) -> None:
    async with graph_client(connection) as graph:
        app = await raw(graph, "POST", "applications", {"displayName": unique("sp")})
        sp = await raw(graph, "POST", "servicePrincipals", {"appId": app["appId"]})
        path = f"servicePrincipals/{sp['id']}"
        cred = await raw(graph, "POST", f"{path}/addPassword", {"passwordCredential": {}})
        assert cred["secretText"]
        sp_doc = await raw(graph, "GET", f"servicePrincipals/{sp['id']}")
        assert [c["keyId"] for c in sp_doc["passwordCredentials"]] == [cred["keyId"]]
        app_doc = await raw(graph, "GET", f"applications/{app['id']}")
        assert app_doc["passwordCredentials"] == []  # an SP-held secret does not show on the app
        await raw(graph, "PATCH", f"servicePrincipals/{sp['id']}", {"accountEnabled": False})
        assert (await raw(graph, "GET", f"servicePrincipals/{sp['id']}"))["accountEnabled"] is False
        err = await odata_error(raw(graph, "PATCH", path, {"accountEnabled": "no"}))
        assert code_of(err) == "Request_BadRequest" and "accountEnabled" in str(err.error.message)
        await raw(graph, "POST", f"servicePrincipals/{sp['id']}/removePassword", {"keyId": cred["keyId"]})
        await raw(graph, "DELETE", f"applications/{app['id']}")
        # Deleting the application takes its service principal along (home tenant).
        for path in (f"applications/{app['id']}", f"servicePrincipals/{sp['id']}"):
            err = await odata_error(raw(graph, "GET", path))
            assert err.response_status_code == 404 and code_of(err) == "Request_ResourceNotFound"


# -- certificates on the application ------------------------------------------------------------


async def test_patch_key_credentials_replaces_the_collection(connection: dict[str, Any]) -> None:
    _, first = self_signed("first")
    _, second = self_signed("second")
    _, third = self_signed("third")
    async with graph_client(connection) as graph:
        app = await raw(graph, "POST", "applications", {"displayName": unique("keys")})
        path = f"applications/{app['id']}"
        key = {"type": "AsymmetricX509Cert", "usage": "Verify"}
        assert await raw(graph, "PATCH", path, {"keyCredentials": [
            {**key, "key": der_b64(first), "displayName": "first"},
            {**key, "key": der_b64(second), "displayName": "second"}]}) is None
        listed = (await raw(graph, "GET", path))["keyCredentials"]
        assert [c["displayName"] for c in listed] == ["first", "second"]
        assert all(c["key"] is None for c in listed)  # keys only on $select of a single object
        sha1 = hashlib.sha1(first.public_bytes(serialization.Encoding.DER)).digest()
        assert listed[0]["customKeyIdentifier"] == base64.b64encode(sha1).decode()
        selected = (await raw(graph, "GET", f"{path}?$select=id,keyCredentials"))["keyCredentials"]
        assert selected[0]["key"] == der_b64(first)
        in_list = await raw(graph, "GET",
                            f"applications?$filter=id eq '{app['id']}'&$select=id,keyCredentials")
        assert in_list["value"][0]["keyCredentials"][0]["key"] is None
        # Resent with a null key and a known keyId: kept. Left out: removed. New key: added.
        await raw(graph, "PATCH", path, {"keyCredentials": [
            {"keyId": listed[1]["keyId"], "key": None, **key}, {**key, "key": der_b64(third)}]})
        after = (await raw(graph, "GET", path))["keyCredentials"]
        assert after[0]["keyId"] == listed[1]["keyId"]
        assert len(after) == 2 and listed[0]["keyId"] not in {c["keyId"] for c in after}
        # A null key with an unknown keyId cannot be a new credential.
        err = await odata_error(raw(graph, "PATCH", path, {"keyCredentials": [
            {"keyId": stable_id("unknown", "key"), "key": None, **key}]}))
        assert code_of(err) == "Request_BadRequest" and "keyCredentials[0].key" in str(err.error.message)
        not_a_cert = {**key, "key": base64.b64encode(b"not a cert").decode()}
        err = await odata_error(raw(graph, "PATCH", path, {"keyCredentials": [not_a_cert]}))
        assert code_of(err) == "Request_BadRequest" and "keyCredentials[0].key" in str(err.error.message)
        err = await odata_error(raw(graph, "PATCH", path, {"passwordCredentials": []}))
        assert code_of(err) == "Request_BadRequest" and "addPassword" in str(err.error.message)


async def test_patch_key_credentials_with_the_model(connection: dict[str, Any]) -> None:
    from msgraph.generated.models.application import Application
    from msgraph.generated.models.key_credential import KeyCredential

    _, cert = self_signed("model")
    async with graph_client(connection) as graph:
        app = await graph.applications.post(Application(display_name=unique("model-keys")))
        der = cert.public_bytes(serialization.Encoding.DER)
        await graph.applications.by_application_id(app.id).patch(Application(key_credentials=[
            KeyCredential(display_name="model", key=der, type="AsymmetricX509Cert", usage="Verify")]))
        got = await graph.applications.by_application_id(app.id).get()
        assert got is not None and got.key_credentials and got.key_credentials[0].display_name == "model"
        # The SDK reads customKeyIdentifier as base64 bytes: they are the SHA-1 thumbprint.
        assert got.key_credentials[0].custom_key_identifier == hashlib.sha1(der).digest()
        assert got.key_credentials[0].end_date_time.date() == cert.not_valid_after_utc.date()


# -- listing: paging, $select, $filter, $top, $count ---------------------------------------------


async def test_paging_past_one_page_raw_and_with_models(connection: dict[str, Any]) -> None:
    async with graph_client(connection) as graph:
        count = await raw(graph, "GET", "servicePrincipals?$count=true&$top=1",
                          headers={"ConsistencyLevel": "eventual"})
        total = count["@odata.count"]
        assert total > 40
        seen: list[str] = []
        page = await raw(graph, "GET", "servicePrincipals?$top=7&$select=id,displayName")
        pages = 1
        while True:
            assert len(page["value"]) <= 7 and set(page["value"][0]) == {"id", "displayName"}
            seen += [v["id"] for v in page["value"]]
            link = page.get("@odata.nextLink")
            if not link:
                break
            assert "$select=id,displayName" in link and "$top=7" in link
            page = await raw(graph, "GET", link)
            pages += 1
        assert pages >= 6 and len(seen) == len(set(seen)) == total
        # The model path follows the same nextLink verbatim.
        from kiota_abstractions.base_request_configuration import RequestConfiguration
        from msgraph.generated.service_principals.service_principals_request_builder import (
            ServicePrincipalsRequestBuilder,
        )

        params = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
            top=3, select=["id", "displayName"])
        first = await graph.service_principals.get(RequestConfiguration(query_parameters=params))
        assert first is not None and len(first.value) == 3 and first.odata_next_link
        second = await graph.service_principals.with_url(first.odata_next_link).get()
        assert second is not None and [s.id for s in second.value] == seen[3:6]


async def test_default_page_size_follows_the_setting(fresh_sandbox: Any) -> None:
    fresh_sandbox.sandbox.settings.page_size = 10
    conn = fresh_sandbox.connection
    async with graph_client(conn) as graph:
        page = await raw(graph, "GET", "servicePrincipals")
        assert len(page["value"]) == 10 and "@odata.nextLink" in page
        groups = await raw(graph, "GET", "groups")
        assert len(groups["value"]) == 9 and "@odata.nextLink" not in groups


async def test_filter_forms_clients_send(connection: dict[str, Any]) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.service_principals.service_principals_request_builder import (
        ServicePrincipalsRequestBuilder,
    )

    admin_app_id = connection["admin"]["client_id"]
    async with graph_client(connection) as graph:
        async def names(query: str) -> list[str]:
            body = await raw(graph, "GET", f"servicePrincipals?$select=displayName&{query}")
            return sorted(v["displayName"] for v in body["value"])

        assert await names(f"$filter=appId eq '{admin_app_id}'") == ["acr-console-sandbox-admin"]
        assert await names("$filter=displayName eq 'GITHUB-ACTIONS-WEB'") == ["github-actions-web"]
        assert await names(f"$filter=servicePrincipalNames/any(c:c eq '{admin_app_id}')") == [
            "acr-console-sandbox-admin"]
        ids = [stable_id("contoso", "sp", n) for n in ("github-actions-web", "catalog-indexer")]
        assert await names(f"$filter=id in ('{ids[0]}', '{ids[1]}')") == [
            "catalog-indexer", "github-actions-web"]
        kubelets = await names("$filter=startswith(displayName,'aks-prod') and servicePrincipalType eq "
                               "'ManagedIdentity'")
        assert kubelets == ["aks-prod-neu-kubelet", "aks-prod-weu-kubelet"]
        disabled = await names("$filter=accountEnabled eq false")
        assert [n for n in disabled if not n.startswith("test-")] == ["azure-devops-legacy-erp"]
        # kiota percent-encodes ( , and ' inside $filter (docs/reference/sdk-wiring.md §3.4): the model path proves it.
        params = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
            filter="startswith(displayName,'github-actions-c')", select=["displayName"], top=50)
        got = await graph.service_principals.get(RequestConfiguration(query_parameters=params))
        assert sorted(s.display_name for s in got.value) == ["github-actions-cart", "github-actions-checkout"]
        apps = await raw(graph, "GET",
                         "applications?$filter=displayName eq 'github-actions-web'&$select=appId")
        assert apps["value"] == [{"appId": stable_id("contoso", "appId", "github-actions-web")}]


async def test_query_errors(connection: dict[str, Any]) -> None:
    async with graph_client(connection) as graph:
        for top in ("0", "1000", "x"):
            err = await odata_error(raw(graph, "GET", f"servicePrincipals?$top={top}"))
            assert err.response_status_code == 400 and "Invalid page size specified" in str(err.error.message)
        assert len((await raw(graph, "GET", "servicePrincipals?$top=999"))["value"]) > 40
        err = await odata_error(raw(graph, "GET", "servicePrincipals?$filter=homepage eq 'x'"))
        assert code_of(err) == "Request_UnsupportedQuery"
        err = await odata_error(raw(graph, "GET", "servicePrincipals?$filter=displayName eq"))
        assert code_of(err) == "Request_BadRequest"
        err = await odata_error(raw(graph, "GET", "servicePrincipals?$select=nosuchthing"))
        assert code_of(err) == "Request_BadRequest" and "nosuchthing" in str(err.error.message)
        # ne is an advanced query: it needs ConsistencyLevel: eventual and $count=true.
        err = await odata_error(raw(graph, "GET", "servicePrincipals?$filter=displayName ne 'x'"))
        assert code_of(err) == "Request_UnsupportedQuery"
        ok = await raw(graph, "GET", "servicePrincipals?$filter=displayName ne 'x'&$count=true&$top=1",
                       headers={"ConsistencyLevel": "eventual"})
        assert ok["@odata.count"] > 40
        err = await odata_error(raw(graph, "GET", "servicePrincipals?$count=true"))
        assert code_of(err) == "Request_BadRequest"
        count = await graph.service_principals.count.get(
            request_configuration=_eventual())
        assert count is not None and count > 40


def _eventual() -> Any:
    from kiota_abstractions.base_request_configuration import RequestConfiguration

    config = RequestConfiguration()
    config.headers.add("ConsistencyLevel", "eventual")
    return config


async def test_error_codes(connection: dict[str, Any], sandbox_server: Any) -> None:
    async with graph_client(connection) as graph:
        missing = stable_id("missing", "object")
        err = await odata_error(graph.applications.by_application_id(missing).get())
        assert err.response_status_code == 404 and code_of(err) == "Request_ResourceNotFound"
        err = await odata_error(raw(graph, "GET", "applications/not-a-guid"))
        assert err.response_status_code == 400 and "Invalid object identifier" in str(err.error.message)
        err = await odata_error(raw(graph, "POST", "applications", {"displayName": 5}))
        assert code_of(err) == "Request_BadRequest" and "displayName" in str(err.error.message)
        err = await odata_error(raw(graph, "POST", "applications", {"displayName": "x", "colour": "blue"}))
        assert code_of(err) == "Request_BadRequest" and "colour" in str(err.error.message)
        err = await odata_error(raw(graph, "GET", f"applications(appId='{missing}')"))
        assert code_of(err) == "Request_ResourceNotFound"
    # A principal without directory permissions: reads and writes are denied.
    store = sandbox_server.sandbox.store
    app = new_application(store, unique("no-rights"))
    new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    from azure.identity.aio import ClientSecretCredential

    cred = ClientSecretCredential(connection["tenant_id"], app["appId"], secret,
                                  authority=connection["authority_host"], disable_instance_discovery=True,
                                  connection_verify=connection["ca_bundle"])
    async with graph_client(connection, cred) as graph:
        for call in (raw(graph, "GET", "servicePrincipals"),
                     raw(graph, "POST", "applications", {"displayName": "x"}),
                     raw(graph, "POST", "directoryObjects/getByIds", {"ids": [DEMO_ADMIN_SP]})):
            err = await odata_error(call)
            assert err.response_status_code == 403 and code_of(err) == "Authorization_RequestDenied"


async def test_wrong_audience_and_badly_signed_tokens_are_refused(connection: dict[str, Any]) -> None:
    import httpx
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    cred = sync_secret_credential(connection, connection["admin"]["client_id"],
                                  connection["admin"]["client_secret"])
    arm_token = cred.get_token("https://management.azure.com/.default").token
    claims = jwt.decode(cred.get_token("https://graph.microsoft.com/.default").token,
                        options={"verify_signature": False})
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256")
    async with httpx.AsyncClient(verify=ssl_context(connection), trust_env=False) as http:
        for token in (arm_token, forged):
            r = await http.get(f"{connection['microsoft_graph']}/v1.0/servicePrincipals",
                               headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationToken"
            assert 'client_id="00000003-0000-0000-c000-000000000000"' in r.headers["WWW-Authenticate"]


# -- groups and memberships ------------------------------------------------------------------------


async def test_groups_members_ref_and_transitive_members(connection: dict[str, Any]) -> None:
    from msgraph.generated.groups.item.transitive_members.graph_service_principal import (
        graph_service_principal_request_builder as cast_builder,
    )
    from msgraph.generated.models.reference_create import ReferenceCreate

    SpCast = cast_builder.GraphServicePrincipalRequestBuilder

    async with graph_client(connection) as graph:
        apps = [await raw(graph, "POST", "applications", {"displayName": unique(f"member{i}")})
                for i in range(2)]
        sps = [await raw(graph, "POST", "servicePrincipals", {"appId": a["appId"]}) for a in apps]
        outer = await raw(graph, "POST", "groups", {"displayName": unique("outer"), "mailEnabled": False,
                                                    "mailNickname": unique("outer"), "securityEnabled": True})
        inner = await raw(graph, "POST", "groups", {
            "displayName": unique("inner"), "mailEnabled": False, "mailNickname": unique("inner"),
            "securityEnabled": True,
            "members@odata.bind": [f"https://graph.microsoft.com/v1.0/directoryObjects/{sps[0]['id']}"]})
        assert inner["@odata.context"].endswith("#groups/$entity")
        # Model path, with Graph's public URL; raw path with the sandbox's own Graph URL.
        await graph.groups.by_group_id(outer["id"]).members.ref.post(
            ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{inner['id']}"))
        await raw(graph, "POST", f"groups/{outer['id']}/members/$ref",
                  {"@odata.id": f"{connection['microsoft_graph']}/v1.0/directoryObjects/{sps[1]['id']}"})
        again = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{sps[1]['id']}"}
        err = await odata_error(raw(graph, "POST", f"groups/{outer['id']}/members/$ref", again))
        assert err.response_status_code == 400 and "already exist" in str(err.error.message)
        err = await odata_error(raw(graph, "POST", f"groups/{outer['id']}/members/$ref",
                                    {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/"
                                                  + stable_id("nobody")}))
        assert err.response_status_code == 404
        # v1.0 lists no service principal among a group's members (a known issue, see
        # test_graph_known_issues.py); beta lists them all.
        direct = await raw(graph, "GET", f"{connection['microsoft_graph']}/beta/groups/{outer['id']}/members")
        assert {(v["@odata.type"], v["id"]) for v in direct["value"]} == {
            ("#microsoft.graph.group", inner["id"]), ("#microsoft.graph.servicePrincipal", sps[1]["id"])}
        flat = await raw(graph, "GET", f"{connection['microsoft_graph']}/beta/groups/{outer['id']}/"
                                       "transitiveMembers?$select=id")
        assert {v["id"] for v in flat["value"]} == {inner["id"], sps[0]["id"], sps[1]["id"]}
        cast = await raw(graph, "GET",
                         f"groups/{outer['id']}/transitiveMembers/microsoft.graph.servicePrincipal?$count=true",
                         headers={"ConsistencyLevel": "eventual"})
        assert {v["id"] for v in cast["value"]} == {sps[0]["id"], sps[1]["id"]} and cast["@odata.count"] == 2
        outer_group = graph.groups.by_group_id(outer["id"])
        config = _eventual()
        config.query_parameters = SpCast.GraphServicePrincipalRequestBuilderGetQueryParameters(count=True)
        modelled = await outer_group.transitive_members.graph_service_principal.get(request_configuration=config)
        assert {s.id for s in modelled.value} == {sps[0]["id"], sps[1]["id"]}
        member_of = await raw(graph, "GET", f"servicePrincipals/{sps[0]['id']}/memberOf")
        assert [v["id"] for v in member_of["value"]] == [inner["id"]]
        transitive = await raw(graph, "GET",
                               f"servicePrincipals/{sps[0]['id']}/transitiveMemberOf?$select=id,displayName")
        assert {v["id"] for v in transitive["value"]} == {inner["id"], outer["id"]}
        assert all(v["@odata.type"] == "#microsoft.graph.group" for v in transitive["value"])
        await graph.groups.by_group_id(outer["id"]).members.by_directory_object_id(sps[1]["id"]).ref.delete()
        err = await odata_error(raw(graph, "DELETE", f"groups/{outer['id']}/members/{sps[1]['id']}/$ref"))
        assert err.response_status_code == 404
        err = await odata_error(raw(graph, "POST", "groups", {"displayName": "x", "mailEnabled": False,
                                                             "securityEnabled": True}))
        assert code_of(err) == "Request_BadRequest" and "mailNickname" in str(err.error.message)


async def test_get_by_ids(connection: dict[str, Any]) -> None:
    group = stable_id("contoso", "group", "acr-pushers")
    sp = stable_id("contoso", "sp", "github-actions-web")
    orphan = stable_id("contoso", "sp", "old-jenkins-agent")
    async with graph_client(connection) as graph:
        body = {"ids": [sp, group, orphan], "types": ["servicePrincipal", "group", "user"]}
        got = await raw(graph, "POST", "directoryObjects/getByIds", body)
        assert [(v["@odata.type"], v["id"]) for v in got["value"]] == [
            ("#microsoft.graph.servicePrincipal", sp), ("#microsoft.graph.group", group)]
        only_groups = await raw(graph, "POST", "directoryObjects/getByIds",
                                {"ids": [sp, group], "types": ["group"]})
        assert [v["id"] for v in only_groups["value"]] == [group]
        err = await odata_error(raw(graph, "POST", "directoryObjects/getByIds",
                                    {"ids": [stable_id("x", str(i)) for i in range(1001)]}))
        assert code_of(err) == "Request_BadRequest"
        from msgraph.generated.directory_objects.get_by_ids.get_by_ids_post_request_body import (
            GetByIdsPostRequestBody,
        )

        modelled = await graph.directory_objects.get_by_ids.post(GetByIdsPostRequestBody(ids=[sp, orphan]))
        assert [o.id for o in modelled.value] == [sp]
        assert type(modelled.value[0]).__name__ == "ServicePrincipal"
