"""render() with a `$select` of plain properties takes a shortcut; it must answer exactly as the
whole-document path does, for every object of the demo tenant."""

from __future__ import annotations

import json
from typing import Any

from acr_console.sandbox.graph_odata import PROPERTIES, render


def _whole_then_selected(doc: dict[str, Any], otype: str, select: list[str], with_type: bool) -> dict[str, Any]:
    full = render(doc, otype)
    picked = {k: full.get(k) for k in select if k in PROPERTIES.get(otype, ()) or k in full}
    return {"@odata.type": f"#microsoft.graph.{otype}", **picked} if with_type else picked


def test_selected_properties_match_the_whole_document(sandbox_server: Any) -> None:
    rows = sandbox_server.sandbox.store.rows("SELECT type, doc FROM directory_objects")
    assert {r["type"] for r in rows} >= {"application", "servicePrincipal", "group"}
    checked = 0
    for row in rows:
        otype, doc = row["type"], json.loads(row["doc"])
        plain = [p for p in PROPERTIES[otype] if p not in ("keyCredentials", "passwordCredentials", "appDisplayName")]
        selects = [
            ["id", "displayName", "appId", "servicePrincipalType", "accountEnabled"],  # what the console lists
            plain,
            list(reversed(plain)),
            ["displayName", "id", "displayName"],
            ["*"],
            ["notAProperty", "id"],
            [*sorted(doc)[:3], "tags"],
        ]
        for select in selects:
            for with_type in (False, True):
                got = render(doc, otype, select=select, with_type=with_type)
                want = _whole_then_selected(doc, otype, select, with_type)
                assert got == want and list(got) == list(want), (otype, select)
                checked += 1
    assert checked > 500
