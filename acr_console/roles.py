"""Built-in Azure role definitions relevant to ACR, shipped as data.

The console reads live definitions at run time; this file is the offline
fallback, the sandbox's source for built-in roles, and the table of which
roles a create-principal form offers per registry mode. It is the only thing
the sandbox shares with the rest of the package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class BuiltinRole:
    guid: str
    name: str
    description: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...]


@cache
def builtin_roles() -> tuple[BuiltinRole, ...]:
    raw = json.loads(resources.files("acr_console.data").joinpath("acr_roles.json").read_text("utf-8"))
    return tuple(
        BuiltinRole(
            guid=r["id"].lower(),
            name=r["name"],
            description=r.get("description", ""),
            actions=tuple(r.get("actions", ())),
            not_actions=tuple(r.get("notActions", ())),
            data_actions=tuple(r.get("dataActions", ())),
            not_data_actions=tuple(r.get("notDataActions", ())),
        )
        for r in raw
    )


def builtin_by_name(name: str) -> BuiltinRole | None:
    """Case-insensitive, as ARM matches `roleName eq`."""
    lowered = name.lower()
    return next((r for r in builtin_roles() if r.name.lower() == lowered), None)


def builtin_by_guid(guid: str) -> BuiltinRole | None:
    lowered = guid.lower()
    return next((r for r in builtin_roles() if r.guid == lowered), None)


# Roles a create-principal or assign form offers, by registry mode: AcrPull/AcrPush/AcrDelete
# mean nothing on an ABAC registry, and the Repository roles are undocumented on legacy ones.
LEGACY_DATA_ROLES = ("AcrPull", "AcrPush", "AcrDelete")
ABAC_DATA_ROLES = (
    "Container Registry Repository Reader",
    "Container Registry Repository Writer",
    "Container Registry Repository Contributor",
    "Container Registry Repository Catalog Lister",
)
