"""`settle`, the one way the console's tests wait for its workers: it waits for a worker a handler
starts after another ends, and it names a worker that never ends instead of waiting on it."""

from __future__ import annotations

import asyncio
import re

import pytest
from textual.app import App
from textual.message import Message

from .conftest import settle


class Chained(App[None]):
    """A worker whose result a handler takes up by starting a second worker."""

    class FirstDone(Message):
        pass

    def __init__(self) -> None:
        super().__init__()
        self.done: list[str] = []

    def on_mount(self) -> None:
        self.run_worker(self.first(), name="first")

    async def first(self) -> None:
        await asyncio.sleep(0)
        self.done.append("first")
        self.post_message(self.FirstDone())

    def on_chained_first_done(self) -> None:
        self.run_worker(self.second(), name="second")

    async def second(self) -> None:
        await asyncio.sleep(0)
        self.done.append("second")


class Stuck(App[None]):
    def on_mount(self) -> None:
        self.run_worker(asyncio.Event().wait(), name="never-ends")


async def test_settle_waits_for_a_worker_started_by_another() -> None:
    app = Chained()
    async with app.run_test() as pilot:
        await settle(pilot)
        assert app.done == ["first", "second"]


async def test_settle_names_a_worker_that_never_ends() -> None:
    async with Stuck().run_test() as pilot:
        with pytest.raises(AssertionError, match=re.escape("workers still running after 0.2 s: 'never-ends'")):
            await settle(pilot, timeout=0.2)
