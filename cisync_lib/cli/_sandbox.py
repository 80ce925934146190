"""``cisync sandbox serve``: run the local sandbox until interrupted."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from cisync_lib.errors import CisyncError, SnapshotError

from ._common import EXIT_ERROR, EXIT_OK, EXIT_USAGE, describe_os_error, exit_code_for

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``sandbox`` command and its ``serve`` sub-command."""
    sandbox = subparsers.add_parser("sandbox", help="run a local ServiceNow (and Defender) sandbox")
    actions = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve",
        help="serve the sandbox over HTTPS on 127.0.0.1 until interrupted (Ctrl+C)",
        description="Serve the sandbox until interrupted and print how to connect to it.",
    )
    serve.add_argument(
        "--state", type=Path, metavar="DIR", help="keep the data in DIR between runs"
    )
    serve.add_argument(
        "--port", type=int, default=0, metavar="N",
        help="ServiceNow port (other services take the next ports); default: ephemeral",
    )  # fmt: skip
    serve.add_argument("--size", metavar="S", help="generated tenant size (tiny, small, ...)")
    serve.add_argument("--seed", type=int, default=0, metavar="N", help="seed (default 0)")
    serve.add_argument(
        "--demo-data", action="store_true",
        help="load a developer instance's demo data (admin user, incidents, problems, ...)",
    )  # fmt: skip
    serve.add_argument(
        "--tenant", type=Path, metavar="FILE",
        help="serve the Defender data of a snapshot file instead of a generated tenant",
    )  # fmt: skip
    serve.add_argument(
        "--json", action="store_true", help="print the connection details as one JSON line"
    )
    serve.set_defaults(handler=serve_command)


def _ports(services: tuple[str, ...], first: int) -> dict[str, int]:
    return {name: first + i for i, name in enumerate(services)} if first else {}


def serve_command(args: argparse.Namespace) -> int:
    """Start the sandbox, print its connection details and serve until interrupted."""
    # lazy: the sandbox is an optional extra
    try:
        from cisync_lib.sandbox import Sandbox, SandboxConfig
    except ImportError as exc:  # pragma: no cover - depends on the environment
        print(f"cisync sandbox needs the 'sandbox' extra: {exc}", file=sys.stderr)
        return EXIT_ERROR
    stop = threading.Event()
    try:
        base = SandboxConfig()
        config = SandboxConfig(
            state_dir=args.state, seed=args.seed, size=args.size, services=base.services,
            ports=_ports(base.services, args.port), demo_data=args.demo_data, tenant=args.tenant,
        )  # fmt: skip
        sandbox = Sandbox(config).start()
    except SnapshotError as exc:  # the --tenant file the user named
        print(f"cisync sandbox: --tenant: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CisyncError as exc:
        print(f"cisync sandbox: {exc}", file=sys.stderr)
        code = exit_code_for(exc)  # a bad --size or --state is a usage error (2)
        if args.json:
            error = {"type": type(exc).__name__, "message": str(exc), "exit_code": code}
            print(json.dumps({"error": error}), flush=True)
        return code
    except OSError as exc:  # a port in use, an unwritable --state: one line, no traceback
        print(f"cisync sandbox: {describe_os_error(exc)}", file=sys.stderr)
        if args.json:
            error = {"type": "OSError", "message": describe_os_error(exc), "exit_code": EXIT_ERROR}
            print(json.dumps({"error": error}), flush=True)
        return EXIT_ERROR
    if threading.current_thread() is threading.main_thread():
        # Install both handlers explicitly: a process started in the background by a
        # non-interactive shell inherits SIGINT as ignored, and Ctrl+C must still stop it.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    try:
        info = sandbox.connection_info()
        if args.json:
            print(json.dumps(info), flush=True)
        else:
            width = max(len(k) for k in info)
            for key, value in info.items():
                print(f"{key.ljust(width)}  {value}")
            print("Serving until interrupted (Ctrl+C).", flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.close()
    return EXIT_OK
