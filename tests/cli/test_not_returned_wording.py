"""A principal that `directoryObjects/getByIds` does not return is described by what is known: it may
be deleted, not yet replicated, or of a type the console does not read. Nothing tells anyone to delete
its assignments (issue 13). The demo's `old-jenkins-agent` was deleted and left its assignments on
contosodev; the console cannot tell that apart from the other two cases, so it does not claim it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from acr_console.main import main
from acr_console.models import AccessEntry, AccessPath, PathKind, Principal, PrincipalType, Right
from acr_console.sandbox.seed import stable_id
from acr_console.tui.widgets.path_detail import describe_entry

ORPHAN = stable_id("contoso", "sp", "old-jenkins-agent")


def _run(server: Any, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["--sandbox-data", str(server.data_dir), *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_the_table_says_not_returned_and_nothing_about_deleting(sandbox_server: Any,
                                                                capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Wide enough that no cell folds: each path's line names its rights (issue 16), and folded Why
    # lines would interleave with the folded name.
    monkeypatch.setenv("COLUMNS", "300")
    out = _run(sandbox_server, capsys, "access", "contosodev")
    squeezed = "".join(out.split())  # the table folds long cells over lines
    assert "(notreturnedbythedirectory)" in squeezed
    [row] = [line for line in out.splitlines() if ORPHAN[:13] in line]
    assert " unknown " in row
    assert "deleted" not in out and "remove" not in out.lower()


def test_the_json_keeps_its_contract(sandbox_server: Any, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(_run(sandbox_server, capsys, "access", "contosodev", "--json"))
    [entry] = [e for e in doc["entries"] if e["principal"]["objectId"] == ORPHAN]
    assert entry["orphaned"] is True
    assert entry["principal"] == {"objectId": ORPHAN, "appId": None, "displayName": ORPHAN, "type": "unknown",
                                  "enabled": None}
    assert entry["push"] is True  # what the role would grant whoever holds that object id


def test_the_console_detail_names_the_three_possibilities() -> None:
    path = AccessPath(kind=PathKind.ROLE_ASSIGNMENT, rights=frozenset({Right.PULL}), role="AcrPull")
    entry = AccessEntry(Principal(ORPHAN, ORPHAN, PrincipalType.UNKNOWN), (path,), orphaned=True)
    text = describe_entry(entry).plain
    assert "not returned by the directory" in text
    assert all(word in text for word in ("deleted", "replicated", "type"))
    assert "remove" not in text.lower() and "orphaned" not in text
