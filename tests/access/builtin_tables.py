"""Expected capabilities of the 24 built-in roles, written by hand from docs/reference/acr-access.md §1, §2.3, §2.4.

Not computed by the code under test: a change in the analysis that changes a built-in role's
result must change these tables too.
"""

from __future__ import annotations

from collections.abc import Mapping

from acr_console.models import Latent, Right

PULL, PUSH, DELETE, SIGN, CAT = Right.PULL, Right.PUSH, Right.DELETE, Right.SIGN, Right.CATALOG
QR, QW = Right.QUARANTINE_READ, Right.QUARANTINE_WRITE
GRANT, READPW, ENABLE = Latent.GRANT_ROLES, Latent.READ_ADMIN_PASSWORD, Latent.ENABLE_ADMIN_USER
MINT, IMPORT, TASKS = Latent.MINT_TOKENS, Latent.IMPORT_IMAGE, Latent.RUN_TASKS
ALL_LEGACY = {PULL, PUSH, DELETE, SIGN, QR, QW}

# role -> (legacy rights, ABAC rights)
RIGHTS: dict[str, tuple[set[Right], set[Right]]] = {
    "AcrPull": ({PULL}, set()),
    "AcrPush": ({PULL, PUSH}, set()),
    "AcrDelete": ({DELETE}, set()),
    "AcrImageSigner": ({SIGN}, set()),
    "AcrQuarantineReader": ({QR}, {QR}),
    "AcrQuarantineWriter": ({QR, QW}, {QR, QW}),
    "Owner": (ALL_LEGACY, set()),
    "Contributor": (ALL_LEGACY, set()),
    "Reader": ({PULL, QR}, set()),
    "User Access Administrator": ({PULL, QR}, set()),
    "Role Based Access Control Administrator": ({PULL, QR}, set()),
    "Container Registry Repository Reader": (set(), {PULL}),
    "Container Registry Repository Writer": (set(), {PULL, PUSH}),
    "Container Registry Repository Contributor": (set(), {PULL, PUSH, DELETE}),
    "Container Registry Repository Catalog Lister": (set(), {CAT}),
    "Container Registry Data Importer and Data Reader": ({PULL}, {PULL, CAT}),
    "Container Registry Tasks Contributor": (set(), set()),
    "Container Registry Configuration Reader and Data Access Configuration Reader": (set(), set()),
    "Container Registry Contributor and Data Access Configuration Administrator": (set(), set()),
    "Container Registry Transfer Pipeline Contributor": (set(), set()),
    "Container Registry Cache Rule Administrator": (set(), set()),
    "Container Registry Cache Rule Reader": (set(), set()),
    "Container Registry Credential Set Administrator": (set(), set()),
    "Container Registry Credential Set Reader": (set(), set()),
}

# role -> raw latent rights: (legacy admin off, legacy admin on, ABAC admin off, ABAC admin on)
LATENT: dict[str, tuple[set[Latent], set[Latent], set[Latent], set[Latent]]] = {
    "Owner": (
        {GRANT, ENABLE, MINT, IMPORT, TASKS},
        {GRANT, READPW, MINT, IMPORT, TASKS},
        {GRANT, ENABLE, MINT, IMPORT},
        {GRANT, READPW, MINT, IMPORT},
    ),
    "Contributor": (
        {ENABLE, MINT, IMPORT, TASKS},
        {READPW, MINT, IMPORT, TASKS},
        {ENABLE, MINT, IMPORT},
        {READPW, MINT, IMPORT},
    ),
    "User Access Administrator": ({GRANT}, {GRANT}, {GRANT}, {GRANT}),
    "Role Based Access Control Administrator": ({GRANT}, {GRANT}, {GRANT}, {GRANT}),
    "Container Registry Data Importer and Data Reader": ({IMPORT}, {IMPORT}, {IMPORT}, {IMPORT}),
    "Container Registry Tasks Contributor": ({TASKS}, {TASKS}, set(), set()),
    "Container Registry Configuration Reader and Data Access Configuration Reader": (
        set(),
        {READPW},
        set(),
        {READPW},
    ),
    "Container Registry Contributor and Data Access Configuration Administrator": (
        {ENABLE, MINT},
        {READPW, MINT},
        {ENABLE, MINT},
        {READPW, MINT},
    ),
}

# Effective latent rights of a principal holding only this role, after the analysis hides those it
# already holds in full (every latent but GRANT_ROLES), in the same columns as LATENT.
EFFECTIVE_LATENT: dict[str, tuple[set[Latent], set[Latent], set[Latent], set[Latent]]] = {
    "Owner": ({GRANT}, {GRANT}, {GRANT, ENABLE, MINT, IMPORT}, {GRANT, READPW, MINT, IMPORT}),
    "Contributor": (set(), set(), {ENABLE, MINT, IMPORT}, {READPW, MINT, IMPORT}),
    "User Access Administrator": ({GRANT}, {GRANT}, {GRANT}, {GRANT}),
    "Role Based Access Control Administrator": ({GRANT}, {GRANT}, {GRANT}, {GRANT}),
    # Legacy: pull only, so import (push) is not held.
    "Container Registry Data Importer and Data Reader": ({IMPORT}, {IMPORT}, {IMPORT}, {IMPORT}),
    "Container Registry Tasks Contributor": ({TASKS}, {TASKS}, set(), set()),
    "Container Registry Configuration Reader and Data Access Configuration Reader": (
        set(),
        {READPW},
        set(),
        {READPW},
    ),
    "Container Registry Contributor and Data Access Configuration Administrator": (
        {ENABLE, MINT},
        {READPW, MINT},
        {ENABLE, MINT},
        {READPW, MINT},
    ),
}


LatentTable = Mapping[str, tuple[set[Latent], set[Latent], set[Latent], set[Latent]]]


def latent_column(table: LatentTable, role: str, legacy: bool, admin: bool) -> set[Latent]:
    column = (0 if legacy else 2) + (1 if admin else 0)
    return table.get(role, (set(), set(), set(), set()))[column]
