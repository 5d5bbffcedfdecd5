"""The cyclic garbage collector while the SDKs load, and at exit.

Importing azure-identity, azure-core and httpx creates a few hundred thousand objects that live as
long as the process. CPython's collector re-scans all of them on each full collection (several
happen during those imports) and once more while the interpreter shuts down: measured on
`registries --json`, about 0.1 s each way, a third of the command's own time
(benchmarks/README.md). Start-up therefore runs with a first-generation threshold high enough that
only the collections nothing needs are skipped (cycles are still collected, every 50,000
allocations instead of every 700); `settle()` then freezes what is alive — `gc.freeze()`, as the
gc documentation describes for long-lived start-up objects: never scanned again — and brings the
default thresholds back for the rest of the run.

No dependency, no import beyond `gc`: the entry point calls `begin()` before anything else.
"""

from __future__ import annotations

import gc

_START_UP_THRESHOLDS = (50_000, 50, 100)
_defaults: tuple[int, int, int] | None = None


def begin() -> None:
    """Collect less while the program's modules load; idempotent."""
    global _defaults
    if _defaults is None:
        _defaults = gc.get_threshold()
        gc.set_threshold(*_START_UP_THRESHOLDS)


def settle(*, exiting: bool = False) -> None:
    """Start-up is over: freeze what was loaded and collect as usual from here on; idempotent.

    A program that goes on (the console, once its first list is shown) first collects the garbage
    start-up left, once, so none of it is frozen; one that is about to exit (a command that is
    done) skips that: the process's memory is about to go anyway."""
    global _defaults
    if _defaults is not None:
        if not exiting:
            gc.collect()
        gc.freeze()
        gc.set_threshold(*_defaults)
        _defaults = None
