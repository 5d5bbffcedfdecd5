"""Graph v1.0 applications and servicePrincipals: CRUD, passwords, certificates."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from . import directory, graph_owners, graph_roles
from .assertions import ProofError, verify_proof
from .directory import DEFAULT_PASSWORD_LIFETIME, InvalidKey, iso, load_certificate, parse_time, thumbprints
from .errors import ApiError
from .graph_core import (
    GUID,
    READ_APPS,
    WRITE_APPS,
    GraphRequest,
    GraphResponse,
    body_object,
    count_objects,
    list_objects,
    load,
    no_content,
    ok,
    require,
    single,
    strings,
)
from .graph_odata import bad_request, context_url

SIGN_IN_AUDIENCES = {"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount",
                     "PersonalMicrosoftAccount"}
# Properties a client may write; others in PROPERTIES are read-only or managed by actions.
APP_WRITABLE = {"displayName", "description", "notes", "tags", "identifierUris", "signInAudience",
                "keyCredentials", "groupMembershipClaims", "isFallbackPublicClient",
                "serviceManagementReference",
                "api", "appRoles", "info", "optionalClaims", "publicClient", "requiredResourceAccess", "web",
                "spa", "tokenEncryptionKeyId", "parentalControlSettings", "isDeviceOnlyAuthSupported",
                "defaultRedirectUri", "uniqueName"}
SP_WRITABLE = {"accountEnabled", "tags", "notes", "description", "appRoleAssignmentRequired",
               "keyCredentials",
               "notificationEmailAddresses", "preferredSingleSignOnMode", "homepage", "loginUrl", "logoutUrl",
               "replyUrls", "alternativeNames", "appDescription", "samlSingleSignOnSettings", "info",
               "preferredTokenSigningKeyThumbprint", "tokenEncryptionKeyId", "displayName"}


def _check_properties(body: dict[str, Any], writable: set[str], otype: str,
                      extra: frozenset[str] = frozenset()) -> None:
    for key in body:
        if key in writable or key in extra or key.startswith("@odata"):
            continue
        if key == "passwordCredentials":
            raise bad_request("Property 'passwordCredentials' cannot be set here: use the addPassword "
                              "action.")
        raise bad_request(f"Property '{key}' does not exist on type 'microsoft.graph.{otype}' or is "
                          "read-only.")


def _apply_common(doc: dict[str, Any], body: dict[str, Any], otype: str) -> None:
    for key, value in body.items():
        if key.startswith("@odata") or key in ("keyCredentials", "appId"):
            continue
        if key == "displayName":
            if not isinstance(value, str) or not value.strip() or len(value) > 256:
                raise bad_request(f"Invalid value specified for property 'displayName' of resource "
                                  f"'{otype}'.")
        elif key in ("tags", "identifierUris", "notificationEmailAddresses", "replyUrls", "alternativeNames"):
            value = strings(value, key)
        elif key == "signInAudience" and value not in SIGN_IN_AUDIENCES:
            raise bad_request(f"Invalid value specified for property 'signInAudience' of resource '{otype}'.")
        elif key in ("accountEnabled", "appRoleAssignmentRequired") and not isinstance(value, bool):
            raise bad_request(f"Invalid value specified for property '{key}' of resource '{otype}': "
                              "true or false expected.")
        elif key in ("description", "notes") and value is not None and not isinstance(value, str):
            raise bad_request(f"Invalid value specified for property '{key}' of resource '{otype}'.")
        doc[key] = value


MIN_RSA_BITS = 2048


def key_credentials(given: Any, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The new keyCredentials collection for a PATCH: the request replaces the whole collection.

    An entry naming a known keyId with a null `key` keeps that credential unchanged (Graph returns
    keys as null, so clients resend what they read; microsoftgraph/microsoft-graph-docs#3579)."""
    if not isinstance(given, list):
        raise bad_request("Invalid value specified for property 'keyCredentials': a collection is expected.")
    by_id = {str(c.get("keyId", "")).lower(): c for c in existing}
    out: list[dict[str, Any]] = []
    seen_thumbprints: set[bytes] = set()
    for i, entry in enumerate(given):
        name = f"keyCredentials[{i}]"
        if not isinstance(entry, dict):
            raise bad_request(f"Invalid value specified for property '{name}': an object is expected.")
        key_id = entry.get("keyId")
        if key_id is not None and (not isinstance(key_id, str) or not GUID.match(key_id)):
            raise bad_request(f"Invalid value specified for property '{name}.keyId': a GUID is expected.")
        if entry.get("key") in (None, ""):
            kept = by_id.get(str(key_id).lower()) if key_id else None
            if kept is None:
                raise bad_request(f"Invalid value specified for property '{name}.key': the key is required "
                                  "for a new key credential.")
            out.append(kept)
            if kept.get("key"):
                seen_thumbprints.add(thumbprints(load_certificate(kept["key"]))[0])
            continue
        out.append(_new_key_credential(entry, name, key_id))
        digest = thumbprints(load_certificate(out[-1]["key"]))[0]
        if digest in seen_thumbprints:
            raise bad_request(f"Invalid value specified for property '{name}.key': the same certificate is "
                              "already in keyCredentials.")
        seen_thumbprints.add(digest)
    return out


def _new_key_credential(entry: dict[str, Any], name: str, key_id: str | None) -> dict[str, Any]:
    ctype = entry.get("type") or "AsymmetricX509Cert"
    usage = entry.get("usage") or "Verify"
    if ctype != "AsymmetricX509Cert":
        raise bad_request(f"Invalid value specified for property '{name}.type': the sandbox supports "
                          "'AsymmetricX509Cert' only.")
    if usage != "Verify":
        raise bad_request(f"Invalid value specified for property '{name}.usage': 'Verify' is expected for an "
                          "AsymmetricX509Cert.")
    if not isinstance(entry["key"], str):
        raise bad_request(f"Invalid value specified for property '{name}.key': base64 is expected.")
    try:
        cert = load_certificate(entry["key"])
    except InvalidKey as exc:
        raise bad_request(f"Invalid value specified for property '{name}.key': {exc}.") from None
    public_key = cert.public_key()
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < MIN_RSA_BITS:
        # Entra refuses RSA keys under 2048 bits: at sign-in as "AADSTS50032: RSA key size 1024 is less
        # than the minimum required 2048 bits." (AzureAD/azure-activedirectory-library-for-python#136).
        # What Graph answers to such an upload is not documented; the sandbox refuses it there, in
        # Graph's shape for an invalid property value, with Entra's words.
        raise bad_request(f"Invalid value specified for property '{name}.key': RSA key size "
                          f"{public_key.key_size} is less than the minimum required {MIN_RSA_BITS} bits.")
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    start, end = not_before, not_after
    for field_name in ("startDateTime", "endDateTime"):
        value = entry.get(field_name)
        if value is None:
            continue
        try:
            parsed = parse_time(str(value))
        except ValueError:
            raise bad_request(f"Invalid value specified for property '{name}.{field_name}'.") from None
        if field_name == "startDateTime":
            start = parsed
        else:
            end = parsed
    slack = timedelta(seconds=1)
    if start < not_before - slack:
        raise bad_request(f"Invalid value specified for property '{name}.startDateTime': key credential "
                          "start date is before the certificate's notBefore.")
    if end > not_after + slack:
        raise bad_request(f"Invalid value specified for property '{name}.endDateTime': key credential end "
                          "date is after the certificate's notAfter.")
    if end <= start:
        raise bad_request(f"Invalid value specified for property '{name}.endDateTime': it must be after "
                          "startDateTime.")
    cred = directory.certificate_credential(cert, key_id=(key_id or str(uuid.uuid4())).lower(),
                                            display_name=entry.get("displayName"), start=start, end=end)
    if entry.get("customKeyIdentifier"):
        cred["customKeyIdentifier"] = entry["customKeyIdentifier"]
    return cred


def _password_request(req: GraphRequest) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else {}
    cred = body.get("passwordCredential")
    if cred is None:
        return {}
    if not isinstance(cred, dict):
        raise bad_request("Invalid value specified for property 'passwordCredential': an object is expected.")
    return cred


def _add_password(req: GraphRequest, owner: dict[str, Any], otype: str) -> GraphResponse:
    cred = _password_request(req)
    now = datetime.now(UTC)
    dates: dict[str, datetime] = {}
    for field_name in ("startDateTime", "endDateTime"):
        if cred.get(field_name) is not None:
            try:
                dates[field_name] = parse_time(str(cred[field_name]))
            except ValueError:
                raise bad_request(
                    f"Invalid value specified for property 'passwordCredential.{field_name}'.") from None
    start = dates.get("startDateTime", now)
    end = dates.get("endDateTime", start + DEFAULT_PASSWORD_LIFETIME)
    if end <= start:
        raise bad_request("Invalid value specified for property 'passwordCredential.endDateTime': it must be "
                          "after startDateTime.")
    display = cred.get("displayName")
    if display is not None and not isinstance(display, str):
        raise bad_request("Invalid value specified for property 'passwordCredential.displayName'.")
    saved, secret = directory.add_password(req.sb.store, owner, otype, display_name=display, start=start,
                                           end=end)
    body = {"@odata.context": context_url(req.sb.graph_base, "microsoft.graph.passwordCredential"),
            **saved, "secretText": secret}
    return ok(body)


def _remove_password(req: GraphRequest, owner: dict[str, Any], otype: str) -> GraphResponse:
    body = body_object(req)
    key_id = body.get("keyId")
    if not isinstance(key_id, str) or not GUID.match(key_id):
        raise bad_request("Invalid value specified for property 'keyId': a GUID is expected.")
    if not directory.remove_password(req.sb.store, owner, otype, key_id.lower()):
        raise bad_request(f"No password credential with keyId '{key_id}' was found to remove.")
    return no_content()


def _created(req: GraphRequest, doc: dict[str, Any], otype: str, type_name: str) -> GraphResponse:
    resp = single(req, doc, otype)
    resp.status = 201
    resp.headers["Location"] = (f"{req.sb.graph_base}/v1.0/directoryObjects/{doc['id']}/"
                                f"Microsoft.DirectoryServices.{type_name}")
    return resp


# -- applications --------------------------------------------------------------------------------


async def list_applications(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS)
    return list_objects(req, ("application",), "applications")


async def count_applications(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS)
    return count_objects(req, ("application",))


async def create_application(req: GraphRequest) -> GraphResponse:
    require(req, WRITE_APPS)
    body = body_object(req)
    _check_properties(body, APP_WRITABLE, "application")
    if "displayName" not in body:
        raise bad_request("Invalid value specified for property 'displayName' of resource 'Application': "
                          "it is required.")
    now = time.time()
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()), "appId": str(uuid.uuid4()),
        "createdDateTime": iso(datetime.fromtimestamp(now, UTC)), "signInAudience": "AzureADMyOrg",
        "tags": [], "identifierUris": [], "passwordCredentials": [], "keyCredentials": [],
    }
    _apply_common(doc, body, "Application")
    if "keyCredentials" in body:
        doc["keyCredentials"] = key_credentials(body["keyCredentials"], [])
    with req.sb.store.transaction():
        req.sb.store.put_object(doc, "application", now)
    return _created(req, doc, "application", "Application")


async def get_application(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS)
    doc = load(req, req.params["id"], "application")
    return graph_owners.with_expanded_owners(req, doc, single(req, doc, "application"))


async def patch_application(req: GraphRequest) -> GraphResponse:
    # Who may update it is who may add a credential to it: keyCredentials are one PATCH away
    # (graph_roles.may_write_credentials; application-update, "Permissions").
    graph_roles.require_credential_writer(req, load(req, req.params["id"], "application"))
    body = body_object(req)
    _check_properties(body, APP_WRITABLE, "application")
    store = req.sb.store
    with store.transaction():
        doc = load(req, req.params["id"], "application")
        _apply_common(doc, body, "Application")
        if "keyCredentials" in body:
            doc["keyCredentials"] = key_credentials(body["keyCredentials"], doc.get("keyCredentials") or [])
        store.put_object(doc, "application", time.time())
    return no_content()


async def delete_application(req: GraphRequest) -> GraphResponse:
    """In its home tenant an application's deletion takes its service principal along."""
    require(req, WRITE_APPS)
    store = req.sb.store
    with store.transaction():
        doc = load(req, req.params["id"], "application")
        sp = store.by_app_id(doc["appId"], "servicePrincipal")
        directory.delete_object(store, doc["id"])
        if sp is not None:
            directory.delete_object(store, sp["id"])
    return no_content()


async def application_add_password(req: GraphRequest) -> GraphResponse:
    with req.sb.store.transaction():
        app = load(req, req.params["id"], "application")
        graph_roles.require_credential_writer(req, app)
        return _add_password(req, app, "application")


async def application_remove_password(req: GraphRequest) -> GraphResponse:
    with req.sb.store.transaction():
        app = load(req, req.params["id"], "application")
        graph_roles.require_credential_writer(req, app)
        return _remove_password(req, app, "application")


def _self_or_writer(req: GraphRequest, app: dict[str, Any]) -> None:
    """addKey/removeKey: an application may roll its own keys without any permission, since the
    proof already shows it holds a current key (application-addkey.md)."""
    if req.caller.app_id.lower() != app["appId"].lower():
        graph_roles.require_credential_writer(req, app)


def _proof(req: GraphRequest, body: dict[str, Any], app: dict[str, Any]) -> None:
    proof = body.get("proof")
    if not isinstance(proof, str) or not proof:
        raise bad_request("Invalid value specified for property 'proof': a JWT is required.")
    try:
        verify_proof(proof, app)
    except ProofError as exc:
        raise bad_request(f"Invalid value specified for property 'proof': {exc}.") from None


async def application_add_key(req: GraphRequest) -> GraphResponse:
    body = body_object(req)
    store = req.sb.store
    with store.transaction():
        app = load(req, req.params["id"], "application")
        _self_or_writer(req, app)
        key = body.get("keyCredential")
        if not isinstance(key, dict):
            raise bad_request("Invalid value specified for property 'keyCredential': an object is required.")
        if body.get("passwordCredential") is not None:
            raise bad_request("Invalid value specified for property 'passwordCredential': only "
                              "X509CertAndPassword keys take one, and the sandbox does not support them.")
        _proof(req, body, app)
        new = _new_key_credential({k: v for k, v in key.items() if k != "keyId"}, "keyCredential", None)
        existing = app.get("keyCredentials") or []
        app["keyCredentials"] = key_credentials(
            [{"keyId": c["keyId"]} for c in existing] + [new], existing)
        store.put_object(app, "application", time.time())
    out = {"@odata.context": context_url(req.sb.graph_base, "microsoft.graph.keyCredential"), **new,
           "key": None}
    return ok(out)


async def application_remove_key(req: GraphRequest) -> GraphResponse:
    body = body_object(req)
    store = req.sb.store
    with store.transaction():
        app = load(req, req.params["id"], "application")
        _self_or_writer(req, app)
        key_id = body.get("keyId")
        if not isinstance(key_id, str) or not GUID.match(key_id):
            raise bad_request("Invalid value specified for property 'keyId': a GUID is expected.")
        _proof(req, body, app)
        keep = [c for c in app.get("keyCredentials") or [] if c["keyId"].lower() != key_id.lower()]
        if len(keep) == len(app.get("keyCredentials") or []):
            raise bad_request(f"No key credential with keyId '{key_id}' was found to remove.")
        app["keyCredentials"] = keep
        store.put_object(app, "application", time.time())
    return no_content()


# -- service principals --------------------------------------------------------------------------


async def list_service_principals(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS)
    return list_objects(req, ("servicePrincipal",), "servicePrincipals")


async def count_service_principals(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS)
    return count_objects(req, ("servicePrincipal",))


# Graph's answer to creating the service principal of an application its replica does not know yet.
SP_APP_NOT_REPLICATED = ("When using this permission, the backing application of the service principal being "
                         "created must in the local tenant")


async def create_service_principal(req: GraphRequest) -> GraphResponse:
    require(req, WRITE_APPS)
    body = body_object(req)
    _check_properties(body, SP_WRITABLE, "servicePrincipal", extra=frozenset({"appId"}))
    app_id = body.get("appId")
    if not isinstance(app_id, str) or not GUID.match(app_id):
        raise bad_request("Invalid value specified for property 'appId' of resource 'ServicePrincipal'.")
    store = req.sb.store
    with store.transaction():
        app = store.by_app_id(app_id, "application")
        if app is None:
            raise bad_request(f"The appId '{app_id}' of the service principal does not reference a valid "
                              "application object.")
        created = store.object_created(app["id"])
        delay = req.sb.settings.replication_delay_s
        if created is not None and delay > 0 and time.time() - created < delay:
            # The application is not on this replica yet: Graph answers 403 with this message, its
            # grammar as sent (Azure/azure-cli#28009, hashicorp/terraform-provider-azuread#992).
            raise ApiError(403, "Authorization_RequestDenied", SP_APP_NOT_REPLICATED)
        if store.by_app_id(app_id, "servicePrincipal") is not None:
            raise ApiError(409, "Request_MultipleObjectsWithSameKeyValue",
                           "Another object with the same value for property servicePrincipalNames already "
                           "exists.")
        doc = directory.new_service_principal(store, app, enabled=bool(body.get("accountEnabled", True)))
        _apply_common(doc, {k: v for k, v in body.items() if k != "accountEnabled"}, "ServicePrincipal")
        if "keyCredentials" in body:
            doc["keyCredentials"] = key_credentials(body["keyCredentials"], [])
        store.put_object(doc, "servicePrincipal", time.time())
    return _created(req, doc, "servicePrincipal", "ServicePrincipal")


async def get_service_principal(req: GraphRequest) -> GraphResponse:
    require(req, READ_APPS)
    doc = load(req, req.params["id"], "servicePrincipal")
    return graph_owners.with_expanded_owners(req, doc, single(req, doc, "servicePrincipal"))


async def patch_service_principal(req: GraphRequest) -> GraphResponse:
    # Who may update it is who may add a credential to it: keyCredentials are one PATCH away
    # (graph_roles.may_write_credentials; application-update, "Permissions").
    graph_roles.require_credential_writer(req, load(req, req.params["id"], "servicePrincipal"))
    body = body_object(req)
    _check_properties(body, SP_WRITABLE, "servicePrincipal")
    store = req.sb.store
    with store.transaction():
        doc = load(req, req.params["id"], "servicePrincipal")
        _apply_common(doc, body, "ServicePrincipal")
        if "keyCredentials" in body:
            doc["keyCredentials"] = key_credentials(body["keyCredentials"], doc.get("keyCredentials") or [])
        store.put_object(doc, "servicePrincipal", time.time())
    return no_content()


async def delete_service_principal(req: GraphRequest) -> GraphResponse:
    require(req, WRITE_APPS)
    with req.sb.store.transaction():
        doc = load(req, req.params["id"], "servicePrincipal")
        directory.delete_object(req.sb.store, doc["id"])
    return no_content()


async def sp_add_password(req: GraphRequest) -> GraphResponse:
    with req.sb.store.transaction():
        sp = load(req, req.params["id"], "servicePrincipal")
        graph_roles.require_credential_writer(req, sp)
        return _add_password(req, sp, "servicePrincipal")


async def sp_remove_password(req: GraphRequest) -> GraphResponse:
    with req.sb.store.transaction():
        sp = load(req, req.params["id"], "servicePrincipal")
        graph_roles.require_credential_writer(req, sp)
        return _remove_password(req, sp, "servicePrincipal")


def routes() -> list[tuple[str, str, Any]]:
    return [
        ("GET", "applications", list_applications),
        ("POST", "applications", create_application),
        ("GET", "applications/$count", count_applications),
        ("GET", "applications/{id}", get_application),
        ("PATCH", "applications/{id}", patch_application),
        ("DELETE", "applications/{id}", delete_application),
        ("POST", "applications/{id}/addPassword", application_add_password),
        ("POST", "applications/{id}/removePassword", application_remove_password),
        ("POST", "applications/{id}/addKey", application_add_key),
        ("POST", "applications/{id}/removeKey", application_remove_key),
        ("GET", "servicePrincipals", list_service_principals),
        ("POST", "servicePrincipals", create_service_principal),
        ("GET", "servicePrincipals/$count", count_service_principals),
        ("GET", "servicePrincipals/{id}", get_service_principal),
        ("PATCH", "servicePrincipals/{id}", patch_service_principal),
        ("DELETE", "servicePrincipals/{id}", delete_service_principal),
        ("POST", "servicePrincipals/{id}/addPassword", sp_add_password),
        ("POST", "servicePrincipals/{id}/removePassword", sp_remove_password),
    ]
