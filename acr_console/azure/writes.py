"""What every write to Azure shares: the read-only guard and the receipt a write hands back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .connection import Connection
from .errors import AzureCallError


class ReadOnlyError(AzureCallError):
    """A write attempted on a read-only connection; refused before any request is sent."""


def ensure_writable(connection: Connection, what: str = "this change") -> None:
    # Checked at the lowest layer as well as by every front end, so no path can send a write.
    if connection.read_only:
        raise ReadOnlyError("ReadOnlyMode", f"refused {what}: the console is in read-only mode (--read-only, "
                            "ACR_CONSOLE_READ_ONLY or read_only in the configuration); nothing was sent", 403)


@dataclass(frozen=True)
class Receipt:
    """A write's trace: the correlation id Azure gave the request, and whether there was nothing to
    do (the thing was already there, or already gone)."""

    correlation_id: str | None = None
    already: bool = False

    @property
    def correlation_ids(self) -> tuple[str, ...]:
        return (self.correlation_id,) if self.correlation_id else ()


def with_correlation(pipeline_response: Any, deserialized: Any, headers: Any) -> tuple[Any, str | None]:
    """The management SDKs' `cls=` hook: the answer, and the correlation id the Receipt carries."""
    h = pipeline_response.http_response.headers
    return deserialized, h.get("x-ms-correlation-request-id") or h.get("x-ms-request-id")
