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
