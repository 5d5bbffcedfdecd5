"""Steps that put a new secret on this machine: a generated key with its certificate, or a password.

They are plan steps (not front-end code) so the plan shows where the secret will land, a
certificate is never uploaded before its private key is safely on disk, and an old password is
never removed before the new one is saved. Files are new, 0600, and never overwrite anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..certificates import GeneratedCertificate, write_private_file
from ..errors import InputError
from .plan import RunContext, Step, StepOutput


def save_key_step(out: Path, generated: GeneratedCertificate) -> Step:
    async def there(ctx: RunContext) -> StepOutput | None:
        try:
            data = out.read_bytes()
        except OSError:
            return None
        if generated.pem in data:
            return StepOutput({"file": str(out)}, note="already written")
        raise InputError(f"{out} appeared meanwhile and holds something else; it was not overwritten")

    async def save(ctx: RunContext) -> StepOutput:
        write_private_file(out, generated.pem)
        return StepOutput({"file": str(out), "thumbprint": generated.info.thumbprint})

    return Step("save-certificate", f"Write the new certificate and its private key to {out} (mode 0600)",
                save, there, local=True)


def save_secret_step(out: Path, after: str, facts: Callable[[RunContext], dict[str, Any]]) -> Step:
    """Write `facts(ctx)` plus the password to `out` as JSON once step `after` created the password.
    `facts` must include the password's `keyId`: that is how a re-run knows the file is its own."""

    async def there(ctx: RunContext) -> StepOutput | None:
        if not out.exists():
            return None
        try:
            if json.loads(out.read_text()).get("keyId") == facts(ctx).get("keyId"):
                return StepOutput({"file": str(out)}, note="already written")
        except (OSError, ValueError):
            pass
        raise InputError(f"{out} appeared meanwhile; it was not overwritten")

    async def save(ctx: RunContext) -> StepOutput:
        doc = {**facts(ctx), "password": ctx.secrets["password"].reveal()}
        write_private_file(out, (json.dumps(doc, indent=2) + "\n").encode())
        return StepOutput({"file": str(out)})

    return Step("save-secret", f"Write the new secret to {out} (mode 0600)", save, there,
                depends_on=(after,), local=True)
