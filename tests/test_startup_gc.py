"""The collector's start-up policy: fewer collections while modules load, frozen once settled."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from acr_console import startup_gc


@pytest.fixture
def defaults() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    startup_gc.settle(exiting=True)  # whatever a failing test left: back to normal
    gc.unfreeze()
    gc.set_threshold(*before)


def test_start_up_collects_less_then_settles(defaults: tuple[int, int, int]) -> None:
    startup_gc.begin()
    raised = gc.get_threshold()
    assert raised[0] > defaults[0] * 10
    startup_gc.begin()  # idempotent: the defaults it restores are still the real ones
    assert gc.get_threshold() == raised
    garbage = [[]]
    garbage[0].append(garbage)  # a cycle: only the collector frees it
    del garbage
    startup_gc.settle()
    assert gc.get_threshold() == defaults
    assert gc.get_freeze_count() > 0
    assert not gc.garbage
    startup_gc.settle()  # a no-op the second time
    assert gc.get_threshold() == defaults


def test_settle_without_begin_changes_nothing(defaults: tuple[int, int, int]) -> None:
    frozen = gc.get_freeze_count()
    startup_gc.settle()
    assert gc.get_threshold() == defaults and gc.get_freeze_count() == frozen
