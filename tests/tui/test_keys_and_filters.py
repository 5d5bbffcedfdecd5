"""k9s and lazygit habits (issue 16): the palette and `/` find principals by appId and object id,
the audit filter by target ids, Escape clears a kept filter first, Enter and Escape in the footer,
`?` lists every screen's keys with a legend, and read-only write keys say why they do nothing."""

from __future__ import annotations

from typing import Any

from acr_console.tui.commands import ConsoleCommands

from .conftest import make_app, settle


async def palette_hits(app: Any, query: str) -> list[Any]:
    provider = ConsoleCommands(app.screen)
    await provider.startup()
    return [hit async for hit in provider.search(query)]


async def test_palette_finds_a_principal_by_app_id_and_by_object_id(connection: dict[str, Any]) -> None:
    from acr_console.tui.screens.principal import PrincipalScreen

    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        provider = ConsoleCommands(app.screen)
        await provider.startup()
        payments = next(p for p in app.backend.principals.values() if p.display_name == "github-actions-payments")
        assert payments.app_id and payments.app_id != payments.object_id
        for query in (payments.app_id, payments.app_id.upper(), payments.app_id[:13], payments.object_id):
            hits = [hit async for hit in provider.search(query)]
            titles = [h.text for h in hits]
            assert "principal github-actions-payments" in titles, (query, titles)
        hits = [hit async for hit in provider.search(payments.object_id)]
        assert hits[0].text == "principal github-actions-payments"  # the exact id first
        hits[0].command()
        await settle(pilot)
        assert isinstance(app.screen, PrincipalScreen)
        assert app.screen.detail is not None and app.screen.detail.principal.object_id == payments.object_id


def footer_keys(app: Any) -> dict[str, str]:
    from textual.widgets._footer import FooterKey

    return {k.key: k.description for k in app.screen.query(FooterKey)}


async def test_escape_clears_a_kept_filter_before_it_leaves_the_screen(connection: dict[str, Any]) -> None:
    from acr_console.tui.screens.registries import RegistriesScreen
    from acr_console.tui.screens.registry_access import RegistryAccessScreen
    from acr_console.tui.widgets.filter_bar import FilterBar
    from acr_console.tui.widgets.row_table import RowTable

    app = make_app(connection)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_command("acr contosoprod")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RegistryAccessScreen)
        everyone = screen.query_one(RowTable).row_count
        assert footer_keys(app).get("escape") == "Back"
        await pilot.press("slash", *"payments", "enter")  # kept: the bar stays, the table has focus
        await pilot.pause()
        assert screen.query_one(RowTable).has_focus
        assert screen.query_one(RowTable).row_count < everyone
        assert footer_keys(app).get("escape") == "Clear filter"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen  # still here
        assert screen.query_one(FilterBar).value == "" and not screen.query_one(FilterBar).has_class("-shown")
        assert screen.query_one(RowTable).row_count == everyone
        assert footer_keys(app).get("escape") == "Back"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RegistriesScreen)


async def test_footer_shows_enter_and_escape_on_list_screens(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "enter" in footer_keys(app)  # the registry list: Enter opens (nothing to go back to)
        for command in ("acr contosoprod", "expiring", "audit"):
            app.run_command(command)
            await settle(pilot)
            keys = footer_keys(app)
            assert "enter" in keys and keys.get("escape") == "Back", (command, keys)


async def filter_rows(pilot: Any, text: str) -> list[Any]:
    from acr_console.tui.widgets.filter_bar import FilterBar
    from acr_console.tui.widgets.row_table import RowTable

    screen = pilot.app.screen
    await pilot.press("slash")
    screen.query_one(FilterBar).value = text
    await pilot.press("enter")
    await pilot.pause()
    table = screen.query_one(RowTable)
    return [table.get_row_at(i) for i in range(table.row_count)]


async def test_list_filters_match_app_id_and_object_id(connection: dict[str, Any]) -> None:
    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        provider = ConsoleCommands(app.screen)
        await provider.startup()
        payments = next(p for p in app.backend.principals.values() if p.display_name == "github-actions-payments")
        for command in ("acr contosoprod", "expiring 365"):
            app.run_command(command)
            await settle(pilot)
            for needle in (payments.app_id, payments.object_id.upper()):
                rows = await filter_rows(pilot, needle)
                assert rows and all("github-actions-payments" in str(r[0]) for r in rows), (command, needle, rows)
                await pilot.press("escape")  # clears the kept filter
                await pilot.pause()


async def test_audit_filter_matches_target_ids(connection: dict[str, Any], audit_file: Any) -> None:
    import json

    from acr_console.tui.screens.principal import PrincipalScreen

    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        provider = ConsoleCommands(app.screen)
        await provider.startup()
        payments = next(p for p in app.backend.principals.values() if p.display_name == "github-actions-payments")
        registry = app.backend.listing.registries[0]
        records = [
            {"v": 1, "time": "2026-05-31T10:00:00Z", "operation": "revoke", "title": "Revoke github-actions-payments",
             "target": {"principal": "github-actions-payments", "appId": payments.app_id,
                        "servicePrincipalObjectId": payments.object_id}, "result": "ok", "steps": []},
            {"v": 1, "time": "2026-05-31T11:00:00Z", "operation": "disable-anonymous-pull",
             "title": f"Turn anonymous pull off on {registry.name}",
             "target": {"registry": registry.name, "registryId": registry.id}, "result": "ok", "steps": []},
        ]
        audit_file.write_text("".join(json.dumps(r) + "\n" for r in records))
        app.run_command("audit")
        await settle(pilot)
        for needle, operation in ((payments.app_id, "revoke"), (payments.object_id, "revoke"),
                                  (registry.id, "disable-anonymous-pull")):
            rows = await filter_rows(pilot, needle)
            assert [str(r[1]) for r in rows] == [operation], (needle, rows)
            await pilot.press("escape")
            await pilot.pause()
        rows = await filter_rows(pilot, payments.app_id)
        await pilot.press("enter")  # the record's principal
        await settle(pilot)
        assert isinstance(app.screen, PrincipalScreen)
        assert app.screen.detail is not None and app.screen.detail.principal.app_id == payments.app_id


def writes_since(sandbox_server: Any, seq: int) -> list[dict[str, Any]]:
    """Requests that change something (reads may go on in the background: the Graph prefetch)."""
    reads = ("getByIds", "$batch", "token", "oauth2")  # POSTs that only read, and sign-in
    return [r for r in sandbox_server.sandbox.store.request_log(seq)
            if r["method"] in ("PUT", "PATCH", "DELETE")
            or (r["method"] == "POST" and not any(part in r["path"] for part in reads))]


async def test_read_only_write_keys_say_they_are_refused(connection: dict[str, Any], request_seq: Any,
                                                        sandbox_server: Any) -> None:
    from acr_console.operations.registry import CREATE_PRINCIPAL, REVOKE
    from acr_console.tui.screens.forms.base import OperationForm
    from acr_console.tui.screens.registry_access import RegistryAccessScreen

    def refusals() -> list[str]:
        return [n.message for n in app._notifications if n.message.startswith("read-only: ")]

    app = make_app(connection, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = request_seq()
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, OperationForm)
        assert [m.split(" is refused")[0] for m in refusals()] == [f"read-only: {CREATE_PRINCIPAL.title}"]
        assert not writes_since(sandbox_server, before)
        app.run_command("acr contosoprod")
        await settle(pilot)
        assert isinstance(app.screen, RegistryAccessScreen)
        before = request_seq()
        await pilot.press("R")
        await settle(pilot)
        assert not isinstance(app.screen, OperationForm)
        assert refusals()[-1].startswith(f"read-only: {REVOKE.title} is refused"), refusals()
        assert not writes_since(sandbox_server, before)
        count = len(refusals())
        await pilot.press("r")  # a read is no write: nothing refused
        await settle(pilot)
        assert len(refusals()) == count
        # `:revoke` opens the principal (a read) and says the revoke is refused, as R there would.
        from acr_console.tui.screens.principal import PrincipalScreen

        app.run_command("revoke github-actions-payments")
        await settle(pilot)
        assert isinstance(app.screen, PrincipalScreen)
        assert len(refusals()) == count + 1 and refusals()[-1].startswith(f"read-only: {REVOKE.title} is refused")


def help_text(app: Any) -> str:
    from rich.console import Console
    from textual.widgets import Static

    console = Console(width=200, record=True, file=__import__("io").StringIO())
    for static in app.screen.query(Static):
        console.print(static.content)
    return console.export_text()


async def test_help_lists_global_keys_first_then_every_screens_keys_and_a_legend(connection: dict[str, Any]) -> None:
    from acr_console.tui.screens.help import LEGEND, HelpScreen

    app = make_app(connection)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.run_command("acr contosoprod")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = help_text(app)
        expected = ("Global keys", "app.command-line", "Keys on this screen", "access.push", "\nRegistries",
                    "registries.refresh", "\nPrincipal", "principal.copy-app-id", "expiring.window", "audit.filter",
                    "filter.clear", "command-line.complete", "form.cancel", "Legend")
        assert not [s for s in expected if s not in text], text
        order = [text.index(s) for s in expected]
        assert order == sorted(order), text
        assert "Palette" in text.split("Keys on this screen")[0]  # ctrl+p is global
        marks = [mark for mark, _ in LEGEND]
        for needed in ("!", "off", "sub ↑ / rg ↑", "rg NAME ↓ N registries", "✓ / ·", "✓ ✗ – · …", "⚑", "?dir"):
            assert needed in marks, needed
        legend = text.split("Legend", 1)[1]
        assert all(mark in legend for mark in marks)


async def test_help_shows_keys_as_the_keymap_rebinds_them(connection: dict[str, Any]) -> None:
    from .conftest import default_settings

    app = make_app(connection, settings=default_settings(keymap={"principal.refresh": "f5"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        line = next(line for line in help_text(app).splitlines() if "principal.refresh" in line)
        assert line.lstrip().startswith("f5"), line
