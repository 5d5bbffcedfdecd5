"""A role definition ARM would refuse (non-string actions), present anyway: the console's `access`
and `expiring` read it without crashing and grant nothing through it. Run as the real program."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from acr_console.sandbox.directory import add_password, new_application, new_service_principal
from acr_console.sandbox.seed import assign, stable_id

from ..support.sandbox import running_sandbox

PROD = (f"/subscriptions/{stable_id('contoso', 'sub', 'prod')}/resourceGroups/rg-platform-prod/providers/"
        "Microsoft.ContainerRegistry/registries/contosoprod")


def test_access_and_expiring_survive_role_data_that_is_not_strings(tmp_path: Path) -> None:
    data = tmp_path / "sbx"
    with running_sandbox(data) as server:
        assert server.sandbox is not None
        store = server.sandbox.store
        guid = str(uuid.uuid4())
        store.put_role_definition(guid, {
            "id": f"/providers/Microsoft.Authorization/roleDefinitions/{guid}", "name": guid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {"roleName": "Broken role", "type": "CustomRole", "assignableScopes": [PROD, 5],
                           "permissions": [{"actions": [["x"], {"a": 1}, 7], "dataActions": "*"}, "junk"]}},
            custom=True)
        app = new_application(store, "broken-role-holder")
        sp = new_service_principal(store, app)
        add_password(store, app, "application")
        assign(store, PROD, guid, sp["id"], "ServicePrincipal")
        for argv in (["access", "contosoprod", "--json"], ["expiring", "--json"]):
            run = subprocess.run([sys.executable, "-m", "acr_console", "--sandbox-data", str(data), *argv],
                                 capture_output=True, text=True, timeout=120)
            assert run.returncode == 0, run.stderr
            assert "Traceback" not in run.stderr and "TypeError" not in run.stderr
            doc = json.loads(run.stdout)
            if argv[0] == "access":
                # The holder of the broken role is listed, if at all, with no right through it.
                mine = [e for e in doc["entries"] if e["principal"]["objectId"] == sp["id"]]
                assert all(not (e["pull"] or e["push"] or e["delete"]) for e in mine), mine
