"""A hand-over for tests that run plans in-process: it takes the new password as a front end
would (operations/handover.py), so the plan's removals and role wait for it as they do for a person."""

from __future__ import annotations

from typing import Any

from acr_console.secret import Secret


class Received:
    description = "Hand the new password to the test"

    def __init__(self) -> None:
        self.delivered: list[tuple[str, dict[str, Any], Secret]] = []

    async def deliver(self, operation: str, facts: dict[str, Any], secret: Secret) -> None:
        self.delivered.append((operation, facts, secret))


RECEIVED = Received()


def reads_for(az: Any) -> Any:
    """`Reads(az)` with the test's hand-over: what a front end passes to `prepare`."""
    from acr_console.operations import Reads

    return Reads(az, hand_over=RECEIVED)
