"""Turn global command-line options into a Connection, starting the sandbox when asked to."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from ..azure.connection import CLOUDS, Auth, AuthMethod, Connection, sandbox_connection


class UsageError(Exception):
    """Bad options or input: exit code 2, nothing sent."""


def _device_code_prompt(verification_uri: str, user_code: str, expires_on: object) -> None:
    print(f"To sign in, open {verification_uri} on any device and enter the code {user_code}.", file=sys.stderr)


@contextlib.contextmanager
def open_connection(args: argparse.Namespace) -> Iterator[Connection]:
    """The connection for this command; a sandbox started here lives exactly as long as the block."""
    subscriptions = tuple(args.subscription or ())
    if args.sandbox or args.sandbox_data:
        from ..sandbox.launcher import connect_or_start, default_data_dir

        data_dir = Path(args.sandbox_data).expanduser() if args.sandbox_data else default_data_dir()
        doc, server = connect_or_start(data_dir)
        try:
            yield sandbox_connection(doc, read_only=args.read_only, subscriptions=subscriptions)
        finally:
            if server is not None:
                server.stop()
        return
    cloud = CLOUDS[args.cloud]
    method = AuthMethod(args.auth)
    auth = Auth(method, device_code_prompt=_device_code_prompt if method is AuthMethod.DEVICE_CODE else None)
    yield Connection(cloud=cloud, tenant_id=args.tenant, auth=auth, subscriptions=subscriptions,
                     read_only=args.read_only)
