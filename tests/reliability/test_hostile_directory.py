"""Display names are written by whoever may register an application in the tenant (by default, any
user). Names carrying rich markup, terminal escape sequences (colour, window title, OSC 52 clipboard
writes), C1 controls, bidirectional overrides, 5,000 characters, right-to-left text and emoji must be
shown literally by every table and dialog of both front ends: markup not read, control characters
replaced by visible stand-ins (presentation.printable), nothing crashing. JSON keeps the exact string.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from acr_console.azure import writes_arm, writes_graph
from acr_console.azure.clients import AzureClients
from acr_console.azure.connection import sandbox_connection
from acr_console.azure.registry_access import find_registry
from acr_console.main import main
from acr_console.models import CredentialOwner
from acr_console.presentation import printable
from acr_console.sandbox.server import SandboxServer
from acr_console.tui.screens.confirm_plan import ConfirmPlanScreen
from acr_console.tui.screens.forms.revoke import RevokeForm
from acr_console.tui.screens.principal import PrincipalScreen
from acr_console.tui.screens.registry_access import RegistryAccessScreen

from ..support.sandbox import running_sandbox
from ..tui.conftest import make_app, settle
from .conftest import record

REGISTRY = "contosoprod"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
HOSTILE = {
    "markup": "[red]pwned[/red]",
    "link": "[link=file:///etc/passwd]x[/link]",
    "unbalanced markup": "[/x] [bold]",
    "colour escape": "evil\x1b[31mred\x1b[0m",
    "OSC 52 clipboard": "clip\x1b]52;c;ZXZpbA==\x07board",
    "window title": "t\x1b]0;owned\x07x",
    "C1 CSI": "c1\x9b31mcsi",
    "bidi override": "rtl \u202eexe.txt",
    "RTL and emoji": "שלום 🚀 مرحبا",
    "line breaks": "two\nlines\ttab",
    "NUL and DEL": "a\x00b\x7fc",
}
LONG = "L" * 4990 + "[red]end[/red]"  # 5,004 characters
# What must never reach a terminal: C0 controls but line breaks, DEL, C1, bidi overrides/isolates.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def obeyed(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in text
                   if (unicodedata.category(c) == "Cc" and c != "\n") or c in _BIDI})


def _fragment(name: str) -> str:
    """A piece of the shown name short enough not to be folded by a narrow column."""
    return printable(name)[:14]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, dict[str, dict[str, str]]]]:
    """A sandbox whose directory holds the hostile names: an application, service principal, password
    (display name too) expiring soon and AcrPull on the registry for each, and a group with a
    5,000-character name that grants AcrPush and holds the first of them."""
    with running_sandbox(tmp_path_factory.mktemp("hostile")) as server:
        yield server, _populate(server)


def _populate(server: SandboxServer) -> dict[str, dict[str, str]]:
    import asyncio

    made: dict[str, dict[str, str]] = {}

    async def populate() -> None:
        async with AzureClients(sandbox_connection(server.connection or {})) as az:
            registry = await find_registry(az, REGISTRY)
            soon = datetime.now(UTC) + timedelta(days=10)
            for label, name in HOSTILE.items():
                app, _ = await writes_graph.create_application(az, name)
                sp, _ = await writes_graph.create_service_principal(az, app["appId"])
                await writes_graph.add_password(az, CredentialOwner.APPLICATION, app["id"], display_name=name,
                                                end=soon)
                await writes_arm.create_role_assignment(
                    az, registry.id, writes_arm.role_definition_id(registry.subscription_id, ACR_PULL), sp["id"])
                made[label] = {"appId": app["appId"], "sp": sp["id"], "name": name}
            group = (await writes_graph.graph_call(az, "POST", "groups", body={
                "displayName": LONG, "mailNickname": "hostile", "mailEnabled": False, "securityEnabled": True})).body
            await writes_graph.graph_call(az, "POST", f"groups/{group['id']}/members/$ref", body={
                "@odata.id": f"{az.connection.cloud.microsoft_graph}/v1.0/directoryObjects/{made['markup']['sp']}"})
            await writes_arm.create_role_assignment(
                az, registry.id, writes_arm.role_definition_id(registry.subscription_id, ACR_PUSH), group["id"],
                principal_type="Group")
            made["group"] = {"name": LONG, "sp": group["id"], "appId": ""}
        # Graph caps an application's name at 256 characters; a service principal's can still be
        # longer (other tenants', or set through other paths), so one is written into the store.
        assert server.sandbox is not None
        store = server.sandbox.store
        doc = store.object(made["colour escape"]["sp"], "servicePrincipal")
        assert doc is not None
        doc["displayName"] = LONG
        store.put_object(doc, "servicePrincipal", store.object_created(doc["id"]) or 0.0)
        made["long"] = {**made["colour escape"], "name": LONG}

    asyncio.run(populate())
    return made


def _cli(server: SandboxServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--sandbox-data", str(server.data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_tables_show_hostile_names_literally(hostile: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server, made = hostile
    outputs = {}
    for argv in (("access", REGISTRY), ("expiring", "--within", "30"),
                 *(("principal", made[k]["appId"]) for k in ("markup", "OSC 52 clipboard", "C1 CSI", "long",
                                                              "bidi override"))):
        code, out, err = _cli(server, capsys, *argv)
        assert code == 0, err
        assert "Traceback" not in out + err
        assert not obeyed(out + err), f"{argv}: {obeyed(out + err)} reached the terminal"
        outputs[argv] = out
    access = " ".join(outputs[("access", REGISTRY)].split())
    expiring = " ".join(outputs[("expiring", "--within", "30")].split())
    for label in HOSTILE:
        if label == "colour escape":
            continue  # renamed to the 5,000-character name in the store
        assert _fragment(HOSTILE[label]) in access, f"{label} not shown as typed in access"
        assert _fragment(HOSTILE[label]) in expiring, f"{label} not shown as typed in expiring"
    principal = outputs[("principal", made["OSC 52 clipboard"]["appId"])]
    assert printable(HOSTILE["OSC 52 clipboard"]) in principal  # "clip␛]52;c;ZXZpbA==␇board"
    assert "[red]pwned[/red]" in outputs[("principal", made["markup"]["appId"])]
    record("hostile directory data", "names tried", len(HOSTILE) + 1)


def test_cli_json_keeps_the_exact_strings(hostile: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server, made = hostile
    code, out, _ = _cli(server, capsys, "access", REGISTRY, "--json")
    assert code == 0 and not obeyed(out)
    names = {e["principal"]["displayName"] for e in json.loads(out)["entries"]}
    groups = {g for e in json.loads(out)["entries"] for p in e["paths"] for g in p["viaGroups"]}
    assert {n for k, n in HOSTILE.items() if k != "colour escape"} <= names
    assert LONG in names and LONG in groups
    code, out, _ = _cli(server, capsys, "principal", made["C1 CSI"]["appId"], "--json")
    doc = json.loads(out)
    assert doc["principal"]["displayName"] == HOSTILE["C1 CSI"]
    assert [c["displayName"] for c in doc["credentials"]] == [HOSTILE["C1 CSI"]]
    code, out, _ = _cli(server, capsys, "expiring", "--within", "30", "--json")
    assert {x["credential"]["displayName"] for x in json.loads(out)} >= set(HOSTILE.values())


@pytest.fixture
async def console(hostile: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    server, made = hostile
    monkeypatch.setenv("ACR_CONSOLE_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    # The real clock: the hostile passwords expire ten days from now, not from the pinned test date.
    app = make_app(server.connection, clock=lambda: datetime.now(UTC))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        yield pilot, made


def _screen_text(pilot: Any) -> str:
    """The screen's characters, line by line, from the SVG export (drawn from the same segments
    the terminal would be sent)."""
    svg = pilot.app.export_screenshot()
    lines = re.findall(r'<g class="[^"]*-matrix">(.*?)</g>', svg, re.S)
    body = lines[0] if lines else svg
    rows: dict[str, str] = {}
    for y, content in re.findall(r'<text[^>]* y="([0-9.]+)"[^>]*>([^<]*)</text>', body):
        rows[y] = rows.get(y, "") + html.unescape(content).replace("\xa0", " ")
    return "\n".join(rows.values())


async def test_console_tables_and_dialogs_show_hostile_names_literally(console: Any) -> None:
    pilot, made = console
    app = pilot.app
    app.run_command(f"acr {REGISTRY}")
    await settle(pilot)
    assert isinstance(app.screen, RegistryAccessScreen)
    seen = _screen_text(pilot)
    # Walk every row: the detail pane under the table shows each entry's name and group chain whole.
    table = app.screen.query_one("#access-table")
    hostile = {*HOSTILE.values(), LONG}
    for index in range(table.row_count):
        table.move_cursor(row=index)
        entry = table.current_row.data
        if entry.principal.display_name in hostile:
            await pilot.pause()
            seen += _screen_text(pilot)
    assert not obeyed(seen), obeyed(seen)
    assert "[red]pwned[/red]" in seen and "clip␛]52;c;ZXZpbA==␇board" in seen and "L" * 100 in seen

    for label in ("markup", "OSC 52 clipboard", "long"):
        app.run_command(f"sp {made[label]['appId']}")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PrincipalScreen) and screen.detail is not None, label
        text = _screen_text(pilot)
        assert not obeyed(text), (label, obeyed(text))
        if label == "markup":
            continue
        # Revoking shows the name in the form and in the plan to confirm (by appId: it cannot be typed).
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, RevokeForm), label
        app.screen.submit()
        await settle(pilot)
        assert isinstance(app.screen, ConfirmPlanScreen), label
        text = _screen_text(pilot)
        assert not obeyed(text), (label, obeyed(text))
        assert "appId to confirm" in text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)

    app.run_command("expiring 30")
    await settle(pilot)
    text = _screen_text(pilot)
    assert not obeyed(text) and "[red]pwned[/red]" in text


async def test_console_messages_quoting_input_are_literal(console: Any) -> None:
    pilot, _ = console
    app = pilot.app
    for ref in ("[/x]nobody", "[red]nobody[/red]", "evil\x1b]52;c;ZXZpbA==\x07"):
        app.run_command(f"sp {ref}")
        await settle(pilot)
    messages = [n.message for n in app._notifications]
    text = _screen_text(pilot) + " ".join(messages)
    assert not obeyed(text), obeyed(text)
