"""`acr-console sandbox serve`: run the local fake of Azure in the foreground; `acr-console sandbox
approve`: approve (or decline) a device-code sign-in, as the person at Entra's verification page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..console_output import print_error
from ..errors import EXIT_OK, EXIT_USAGE


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sandbox", help="the local sandbox (a fake Azure tenant on loopback HTTPS)")
    sp = p.add_subparsers(dest="sandbox_command", required=True, metavar="COMMAND")
    serve = sp.add_parser("serve", help="serve the sandbox in the foreground until interrupted")
    serve.add_argument("--data", help="data folder (default: the user data folder's acr-console/sandbox)")
    serve.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    serve.add_argument("--seed", default="demo", help="demo (default), empty, or large:N; used when the data "
                       "folder is new or with --reset")
    serve.add_argument("--reset", action="store_true", help="discard the data folder's tenant and seed anew")
    serve.add_argument("--page-size", type=int, default=100, help="ARM and Graph page size (default 100)")
    serve.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request")
    serve.add_argument("--faults", default="", help="fault spec, e.g. 'arm:429:0.2,graph:503:0.1'")
    serve.add_argument("--replication-delay", type=float, default=0.0, metavar="SECONDS",
                       help="for this long after an object is created: PrincipalNotFound for a new principal, "
                       "403 for the service principal of a new application")
    serve.set_defaults(handler=serve_command, needs_azure=False)
    approve = sp.add_parser("approve", help="approve a pending device-code sign-in (as the sandbox's user)")
    approve.add_argument("code", metavar="CODE", help="the code the signing-in program shows, e.g. ABCD2EFGH")
    approve.add_argument("--data", help="data folder (default: the user data folder's acr-console/sandbox)")
    approve.add_argument("--user", metavar="UPN", help="who signs in (default: admin@<the tenant's domain>)")
    approve.add_argument("--decline", action="store_true", help="decline the sign-in instead of approving it")
    approve.set_defaults(handler=approve_command, needs_azure=False)


def serve_command(args: argparse.Namespace) -> int:
    from ..session import serve_sandbox

    if not 1 <= args.page_size <= 999:
        print_error("--page-size must be between 1 and 999")
        return EXIT_USAGE
    if not 0 <= args.port <= 65535:
        print_error("--port must be between 0 and 65535")
        return EXIT_USAGE
    if args.latency_ms < 0 or args.replication_delay < 0:
        print_error("--latency-ms and --replication-delay cannot be negative")
        return EXIT_USAGE

    def ready(conn: dict[str, Any], data: Path) -> None:
        print(f"acr-console sandbox listening on {conn['authority_host']}", flush=True)
        print(f"  tenant      {conn['tenant_id']}", flush=True)
        print(f"  connection  {data / 'connection.json'}  (holds the admin secret; mode 0600)", flush=True)
        print(f"  CA          {conn['ca_bundle']}", flush=True)
        print(f"  sign-in     --auth device-code; approve a code with `acr-console sandbox approve --data {data} CODE`",
              flush=True)
        print("Stop with Ctrl+C.", flush=True)

    # A busy data folder, a port in use, a bad seed or fault spec: the session raises the console's
    # errors, and `run` prints them with their exit codes.
    serve_sandbox(args.data, port=args.port, seed=args.seed, reset=args.reset, page_size=args.page_size,
                  latency_ms=args.latency_ms, replication_delay_s=args.replication_delay, faults=args.faults,
                  ready=ready)
    print("sandbox stopped", file=sys.stderr)
    return EXIT_OK


def approve_command(args: argparse.Namespace) -> int:
    # Failures are the console's errors (session.decide_sandbox_device_code); `run` prints them.
    from ..session import decide_sandbox_device_code

    code, upn = decide_sandbox_device_code(args.data, args.code, user=args.user, decline=args.decline)
    print(f"{'declined' if args.decline else 'approved'} {code} as {upn}", flush=True)
    return EXIT_OK
