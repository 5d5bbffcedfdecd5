"""`acr-console report`, with each registry's analysis replaced by an empty answer: the report's reads
alone (every request, every page parsed, the directory pass, the tokens), and nothing analysed or
written but the registries' own lines. What the tenant section compares the whole report with: the
least a faster analysis or writer could bring the report down to on this host.

    python -m benchmarks.reads_only --sandbox-data DIR report

The replacement is made here, in a measuring tool; the console has no switch for it.
"""

from __future__ import annotations

from acr_console import startup_gc

startup_gc.begin()  # as the `acr-console` entry point does (acr_console/main.py, entry)

from acr_console.azure import tenant_access  # noqa: E402 - after the collector's start-up policy
from acr_console.main import entry  # noqa: E402
from acr_console.models import Registry, RegistryAccess  # noqa: E402


def _nothing(registry: Registry, read: object, tokens: object) -> RegistryAccess:
    return RegistryAccess(registry=registry, entries=())


tenant_access._analyse = _nothing

if __name__ == "__main__":
    entry()
