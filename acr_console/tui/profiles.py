"""Switching profiles inside the app (`:profile NAME`), like k9s contexts."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..azure.connection import CLOUDS, Auth, AuthMethod, Connection, sandbox_connection
from ..config import Profile

if TYPE_CHECKING:
    from .app import AcrConsoleApp


async def connection_for_profile(app: AcrConsoleApp, profile: Profile) -> Connection:
    if profile.sandbox:
        from ..sandbox.launcher import connect_or_start, default_data_dir

        doc, server = await asyncio.to_thread(connect_or_start, default_data_dir())
        if server is not None and app._owned_sandbox is None:
            app._owned_sandbox = server
        return sandbox_connection(doc, read_only=profile.read_only, subscriptions=tuple(profile.subscriptions))
    method = AuthMethod(profile.auth)
    prompt = app._device_code_prompt if method is AuthMethod.DEVICE_CODE else None
    return Connection(cloud=CLOUDS[profile.cloud], tenant_id=profile.tenant,
                      auth=Auth(method, device_code_prompt=prompt),
                      subscriptions=tuple(profile.subscriptions), read_only=profile.read_only)
