"""Handing a new password to the person who asked, as a step of its plan, before anything that
cannot be undone.

A reset with --replace that removed the old passwords and then lost the new one (a hang-up, a
full disk, a closed pipe) would leave a principal nobody can sign in as; a create that assigned
AcrPush before the secret reached anyone would leave a live pusher with no known secret. So the
secret's delivery is a step, and the destructive steps (removing passwords, granting the role)
depend on it: if it fails they are skipped, and the report names the new password's key id.

The front end says how it delivers (`HandOver`): the command line prints and flushes standard
output; the console shows it on screen. Writing to an `--out` file is the other delivery
(files.save_secret_step), fsynced before it counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..secret import Secret
from .plan import RunContext, Step, StepOutput

STEP_ID = "hand-over"


class HandOver(Protocol):
    """How a front end gives a new secret to its user, once."""

    @property
    def description(self) -> str:
        """Where it goes, as a plan step says it: "Print the new password on standard output"."""
        ...

    async def deliver(self, operation: str, facts: dict[str, Any], secret: Secret) -> None:
        """Deliver now (written and flushed, or on screen) the password `operation` made, with its
        facts; raise OutputError when it cannot be."""
        ...


def hand_over_step(hand_over: HandOver, operation: str, after: tuple[str, ...],
                   facts: Callable[[RunContext], dict[str, Any]]) -> Step:
    """A step that delivers `ctx.secrets["password"]` with `facts(ctx)` (its key id among them)
    once the steps `after` have made (and saved) it."""

    async def deliver(ctx: RunContext) -> StepOutput:
        known = facts(ctx)
        key_id = known.get("keyId") or known.get("passwordKeyId")
        await hand_over.deliver(operation, known, ctx.secrets["password"])
        ctx.values[STEP_ID] = key_id
        return StepOutput({"keyId": key_id})

    async def delivered(ctx: RunContext) -> StepOutput | None:
        # Once per password: executing the plan again ("retry the rest") never shows it twice.
        known = facts(ctx)
        key_id = known.get("keyId") or known.get("passwordKeyId")
        if key_id is not None and ctx.values.get(STEP_ID) == key_id:
            return StepOutput({"keyId": key_id}, note="already handed over")
        return None

    return Step(STEP_ID, f"{hand_over.description}, before anything is removed or granted", deliver, delivered,
                depends_on=after, local=True)
