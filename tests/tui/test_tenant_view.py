"""The tenant view (issue 18): `t` on the registry list, every identity widest first, `/` to filter,
Enter to the principal (or a token's / anonymous pull's registry), Escape back. Against a demo
sandbox of the module's own; the expected breadth comes from `access --json` of each registry (the
command line's read and JSON, not the view's counting)."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from acr_console.access.breadth import TenantIdentity
from acr_console.main import main
from acr_console.tui.screens.principal import PrincipalScreen
from acr_console.tui.screens.registries import RegistriesScreen
from acr_console.tui.screens.registry_access import RegistryAccessScreen
from acr_console.tui.screens.tenant import TenantScreen

from ..support.sandbox import running_sandbox
from .conftest import make_app, settle


def _cli_json(server: Any, *argv: str) -> Any:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--sandbox-data", str(server.data_dir), *argv])
    assert code == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A demo sandbox no other test writes to, and what `access --json` says of each registry:
    {"connection", "push": {objectId: {registry names}}, "pull": {...}}."""
    with running_sandbox(tmp_path_factory.mktemp("sandbox-tenant-view")) as server:
        push: dict[str, set[str]] = {}
        pull: dict[str, set[str]] = {}
        for registry in _cli_json(server, "registries", "--json"):
            doc = _cli_json(server, "access", registry["name"], "--json")
            for entry in doc["entries"]:
                oid = entry["principal"]["objectId"]
                if oid:
                    for right, seen in (("push", push), ("pull", pull)):
                        if entry[right]:
                            seen.setdefault(oid.lower(), set()).add(registry["name"])
        yield {"connection": server.connection, "push": push, "pull": pull}


def _items(screen: TenantScreen) -> list[TenantIdentity]:
    """The identities of the rows the table shows, top to bottom (the cursor ends on the first)."""
    table, items = screen.table, []
    for at in range(table.row_count):
        table.move_cursor(row=at, scroll=False)
        row = table.current_row
        assert row is not None and isinstance(row.data, TenantIdentity)
        items.append(row.data)
    table.move_cursor(row=0)
    return items


async def test_t_opens_every_identity_widest_first_also_read_only(tenant: dict[str, Any]) -> None:
    push, pull = tenant["push"], tenant["pull"]
    widest = max(len(names) for names in push.values())
    app = make_app(tenant["connection"], read_only=True)  # the view only reads: read-only opens it too
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TenantScreen)
        items = _items(screen)
        top = items[0]
        assert top.principal.object_id is not None
        assert len(push[top.principal.object_id.lower()]) == widest
        # Its row says where, as `access --json` does.
        assert sorted(top.push) == sorted(push[top.principal.object_id.lower()])
        # Every directory identity: the registries it can push to and pull from are access --json's,
        # and the rows run from the widest down.
        directory = [i for i in items if i.registry is None and i.principal.object_id]
        assert {i.principal.object_id.lower() for i in directory if i.push} == set(push)  # type: ignore[union-attr]
        for item in directory:
            oid = item.principal.object_id.lower()  # type: ignore[union-attr]
            assert (set(item.push), set(item.pull)) == (push.get(oid, set()), pull.get(oid, set())), item.name
        breadth = [(len(push.get(i.principal.object_id.lower(), ())),  # type: ignore[union-attr]
                    len(pull.get(i.principal.object_id.lower(), ()))) for i in directory]  # type: ignore[union-attr]
        assert breadth == sorted(breadth, reverse=True)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RegistriesScreen)


async def test_filter_enter_opens_the_principal_or_the_registry_and_escape_goes_back(tenant: dict[str, Any]) -> None:
    app = make_app(tenant["connection"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TenantScreen)
        total = screen.table.row_count
        await pilot.press("slash", *"helm-chart")
        await settle(pilot)
        [item] = _items(screen)
        assert item.principal.display_name == "helm-chart-publisher"
        assert screen.table.row_count < total
        await pilot.press("enter")  # from the filter to the table
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PrincipalScreen)
        assert app.screen.ref == item.principal.object_id
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")  # clears the kept filter
        await settle(pilot)
        assert screen.table.row_count == total
        # Anonymous pull lives in its registry: Enter opens that registry's access view.
        await pilot.press("slash", *"anonymous")
        await settle(pilot)
        items = _items(screen)
        assert items and all(i.registry is not None for i in items)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RegistryAccessScreen)
        assert app.screen.registry.name == items[0].registry.name  # type: ignore[union-attr]
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape", "escape")  # the filter, then the view
        await settle(pilot)
        assert isinstance(app.screen, RegistriesScreen)


def test_identities_across_registries_hand_built() -> None:
    """One row per directory principal across registries (by object id, whatever its name says);
    a token, the admin user and anonymous pull one row per registry; widest push first, then pull."""
    from acr_console.access.breadth import tenant_identities
    from acr_console.models import (
        AccessEntry,
        AccessPath,
        PathKind,
        Principal,
        PrincipalType,
        Registry,
        RegistryAccess,
        Right,
    )

    def reg(name: str) -> Registry:
        return Registry(f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/{name}",
                        name, f"{name}.azurecr.io", "rg", "s")

    def entry(who: Principal, *rights: Right, groups: tuple[str, ...] = ()) -> AccessEntry:
        return AccessEntry(who, (AccessPath(PathKind.ROLE_ASSIGNMENT, frozenset(rights), via_groups=groups),))

    ci = Principal("OID-CI", "ci", PrincipalType.SERVICE_PRINCIPAL)
    renamed = Principal("oid-ci", "ci (renamed)", PrincipalType.SERVICE_PRINCIPAL)
    reader = Principal("oid-r", "reader", PrincipalType.USER)
    token = Principal(None, "ci-token", PrincipalType.REGISTRY_TOKEN)
    push, pull = Right.PUSH, Right.PULL
    accesses = [RegistryAccess(reg("a"), (entry(ci, pull, push), entry(reader, pull, groups=("g",)),
                                          entry(token, pull))),
                RegistryAccess(reg("b"), (entry(renamed, pull), entry(reader, pull), entry(token, pull, push)))]
    rows = [(i.name, i.push, i.pull, i.via_groups) for i in tenant_identities(accesses)]
    assert rows == [("ci", ["a"], ["a", "b"], False),  # first seen as "ci": the name is the first read
                    ("ci-token · b", ["b"], ["b"], False),
                    ("reader", [], ["a", "b"], True),
                    ("ci-token · a", [], ["a"], False)]
