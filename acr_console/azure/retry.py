"""The Azure layer's one retry loop and its one backoff, for what the SDKs' own retry policies leave
to the caller:

- transient failures: a throttled request inside a Graph `$batch` (429/503/504, each with its own
  Retry-After), a Graph read that meets a dropped connection, a timeout or a 500/502 (msgraph
  retries only 429/503/504; azure-core already retries all of these for ARM). A few tries, soon.
- replication: a principal created moments ago that ARM (PrincipalNotFound) or Graph's replica
  (a 400 naming the application) does not know yet. Tries until a deadline of minutes.

Every wait is exponential from the policy's first wait, capped, with up to one first wait of
jitter so that requests throttled together do not come back together; a Retry-After the service
gave wins over the backoff.

Over tenacity, a maintained library with exactly the parts needed (stop after n tries or before a
deadline is passed, exponential jitter, an injectable async sleep) instead of four hand-written
loops. It is imported when something is first tried again (~10 ms): a first try that succeeds
never touches it, so no command's start-up or happy path pays for it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tenacity import RetryCallState

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    first_s: float  # the first wait (and the most jitter added to any wait)
    max_s: float  # no wait is longer, unless the service asked for it with Retry-After


TRANSIENT = Backoff(first_s=0.5, max_s=30.0)
REPLICATION = Backoff(first_s=1.0, max_s=10.0)


class Again(Exception):
    """Raised by an attempt whose answer came back but asks to be tried again (a throttled inner
    request, a 500 to a read); `retry_after` is the service's wait in seconds, if it named one.
    When the tries run out the last Again is raised to the caller, which still holds the answer."""

    def __init__(self, retry_after: float | None = None, answer: Any = None) -> None:
        super().__init__("try again")
        self.retry_after = retry_after
        self.answer = answer


def _never(exc: BaseException) -> bool:
    return False


async def retrying(
    attempt: Callable[[], Awaitable[T]], *, backoff: Backoff, retry_on: Callable[[BaseException], bool] = _never,
    attempts: int | None = None, deadline_s: float | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> T:
    """Await `attempt()` until it returns, trying again after an `Again` or an exception
    `retry_on` accepts. Stops after `attempts` tries in all, or when the next wait would end past
    `deadline_s` seconds from the first try; then the last exception is raised as it was."""

    def wanted(exc: BaseException) -> bool:
        return isinstance(exc, Again) or retry_on(exc)

    # The first try runs outside tenacity: its loop costs a tenth of a millisecond or more per call
    # on the event loop, every Graph request passes here, and nearly all of them succeed at once.
    started = time.monotonic()
    try:
        return await attempt()
    except Exception as exc:
        if attempts == 1 or not wanted(exc):
            raise
        first_failure = exc

    import tenacity

    # `multiplier`, tenacity's name since 9.2 for what it called `initial` (which now warns).
    exponential = tenacity.wait_exponential_jitter(multiplier=backoff.first_s, max=backoff.max_s,
                                                  jitter=backoff.first_s)

    def wait(state: RetryCallState) -> float:
        failed = state.outcome.exception() if state.outcome is not None else None
        after = getattr(failed, "retry_after", None)
        return float(after) if after is not None else float(exponential(state))

    stops: list[Any] = []
    if attempts is not None:
        stops.append(tenacity.stop_after_attempt(attempts))
    if deadline_s is not None:
        stops.append(tenacity.stop_before_delay(deadline_s - (time.monotonic() - started)))
    extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    loop = tenacity.AsyncRetrying(stop=tenacity.stop_any(*stops) if stops else tenacity.stop_never, wait=wait,
                                  retry=tenacity.retry_if_exception(wanted), reraise=True, **extra)
    replayed = False
    async for try_ in loop:
        with try_:
            if not replayed:
                # tenacity's first attempt is the one already made: its failure, handed over as is.
                replayed = True
                raise first_failure
            return await attempt()
    raise AssertionError("unreachable: tenacity returns or re-raises")  # pragma: no cover
