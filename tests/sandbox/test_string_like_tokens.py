r"""The registry token service evaluates `StringLike` in an ABAC condition as Azure documents it, and
agrees with the console's analysis.

MicrosoftDocs/azure-docs `articles/role-based-access-control/conditions-format.md`, StringLike: `*` a
"multi-character match wildcard", `?` a "single-character match wildcard", "escaped by add a
backslash `\*` and `\?`", the whole value matched (`'a*c'` does not match "abcd").
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import jwt
import pytest

from acr_console.access.conditions import parse_condition, repository_matches
from acr_console.roles import builtin_by_name
from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.seed import assign, stable_id
from acr_console.sandbox.server import SandboxServer

from .graph_support import ssl_context

REPO = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"
WRITE = "Microsoft.ContainerRegistry/registries/repositories/content/write"
WEU = (f"/subscriptions/{stable_id('contoso', 'sub', 'prod')}/resourceGroups/rg-platform-prod/providers/"
       "Microsoft.ContainerRegistry/registries/contosoprodweu")  # ABAC mode
WRITER = builtin_by_name("Container Registry Repository Writer").guid  # type: ignore[union-attr]
# `team-/app` is not here: a component cannot end in `-` (distribution's name grammar), so the token
# service refuses to name it at all (test_registry_plane).
REPOSITORIES = ("team-a/app", "team-b/app-web", "team-ab/app", "team-a/ap", "other/app", "team-a/x")


def _pushes(conn: dict[str, Any], app_id: str, secret: str, repo: str) -> bool:
    login = "contosoprodweu.azurecr.io"
    basic = base64.b64encode(f"{app_id}:{secret}".encode()).decode()
    with httpx.Client(verify=ssl_context(conn), trust_env=False, headers={"Host": login}) as http:
        r = http.get(f"{conn['registry_endpoint']}/oauth2/token",
                     params={"service": login, "scope": f"repository:{repo}:push"},
                     headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.text
    access = jwt.decode(r.json()["access_token"], options={"verify_signature": False})["access"]
    return any("push" in a["actions"] for a in access)


@pytest.mark.parametrize(("values", "expected"), [
    # `?` is one character, `*` any run (none too), the whole name is matched.
    (("team-?/app*",), {"team-a/app", "team-b/app-web"}),
    (("team-*/app",), {"team-a/app", "team-ab/app"}),
    (("*/app",), {"team-a/app", "team-ab/app", "other/app"}),
    # An escaped `*` is a literal star, which no repository name has.
    ((r"team-a/\*",), set()),
    (("team-a/ap",), {"team-a/ap"}),
])
def test_string_like_in_the_token_service(sandbox_server: SandboxServer, values: tuple[str, ...],
                                          expected: set[str]) -> None:
    assert sandbox_server.sandbox is not None and sandbox_server.connection is not None
    store, conn = sandbox_server.sandbox.store, sandbox_server.connection
    app = new_application(store, f"test-like-{uuid.uuid4().hex[:8]}")
    sp = new_service_principal(store, app)
    _, secret = add_password(store, app, "application")
    listed = ", ".join(f"'{v}'" for v in values)
    condition = f"(!(ActionMatches{{'{WRITE}'}})) OR ({REPO} ForAnyOfAnyValues:StringLike {{{listed}}})"
    assign(store, WEU, WRITER, sp["id"], "ServicePrincipal", condition=condition)
    granted = {repo for repo in REPOSITORIES if _pushes(conn, app["appId"], secret, repo)}
    assert granted == expected
    # The console's reading of the same condition allows exactly the same repositories.
    parsed = parse_condition(condition)
    assert parsed is not None
    scope = parsed.scope_for(WRITE)
    assert scope.understood and scope.repositories is not None
    assert {r for r in REPOSITORIES if any(repository_matches(p, r) for p in scope.repositories)} == granted
