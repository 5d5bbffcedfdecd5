"""Turn global command-line options into a Connection, starting the sandbox when asked to."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from ..azure.connection import CLOUDS, Auth, AuthMethod, Connection, sandbox_connection
from ..errors import UsageError
from ..paths import expand_user


def _device_code_prompt(verification_uri: str, user_code: str, expires_on: object) -> None:
    print(f"To sign in, open {verification_uri} on any device and enter the code {user_code}.", file=sys.stderr)


def apply_profile(args: argparse.Namespace) -> argparse.Namespace:
    """Fill options the command line left unset from the chosen profile (--profile, else the
    configuration's default); the command line wins, and read-only from either side sticks."""
    from ..config import load_settings

    if getattr(args, "profile", None) is not None and not args.profile.strip():
        # An empty name would silently fall back to the default profile, perhaps production's.
        raise UsageError("--profile: no profile name given; name one from the configuration file")
    name, profile = load_settings().profile(getattr(args, "profile", None))
    args.profile = name
    args.accent = profile.accent
    args.cloud = args.cloud or profile.cloud
    args.auth = args.auth or profile.auth
    args.tenant = args.tenant or profile.tenant
    args.subscription = args.subscription or list(profile.subscriptions) or None
    args.read_only = bool(args.read_only or profile.read_only)
    args.sandbox = bool(args.sandbox or profile.sandbox)
    return args


@contextlib.contextmanager
def open_connection(args: argparse.Namespace) -> Iterator[Connection]:
    """The connection for this command; a sandbox started here lives exactly as long as the block."""
    apply_profile(args)
    subscriptions = tuple(args.subscription or ())
    if args.sandbox or args.sandbox_data:
        from ..sandbox.launcher import connect_or_start, default_data_dir

        data_dir = expand_user(args.sandbox_data) if args.sandbox_data else default_data_dir()
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
