"""``cisync check``: the preflight checklist of a deployment, before any bulk read."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cisync_lib.errors import CisyncError
from cisync_lib.sync import CheckItem, Preflight, job_from_config, load_deployment

from ._common import (
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_OK,
    Output,
    config_options,
    output_options,
    run_command,
)

if TYPE_CHECKING:
    from cisync_lib.sync import SyncJob

__all__ = ["checked", "register"]


def register(subparsers: Any) -> None:
    """Add ``check``."""
    parser = subparsers.add_parser(
        "check",
        parents=[config_options(), output_options()],
        help="check network, sign-in, permissions and folders in seconds; writes nothing",
        description="Check that a deployment can run, before reading anything in bulk: DNS, "
        "TCP and TLS to each service (with the CA in use), the Entra ID token and its Graph "
        "permission, Defender reachability, ServiceNow sign-in, the roles the sync needs "
        "(probed without writing), the 'Used by' relationship type, the IRE rule (write_path "
        '= "ire") and the state and report folders. Exit 0 only when every check passes.',
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=lambda a: run_command(a, _check))


def _check(args: argparse.Namespace, out: Output) -> int:
    config = load_deployment(args.config)
    source = config.connection(args.connection)
    destination = config.destination(args.env, args.destination)
    job = job_from_config(config, args.env, connection=source.name, destination=destination.name)
    preflight = Preflight(config=config, source=source, destination=destination)
    out.text(
        f"Checking {config.path}: connection {source.name!r} -> destination "
        f"{destination.name!r} ({destination.environment.value.upper()})"
    )

    def show(item: CheckItem) -> None:
        out.text("  " + item.line())

    report = preflight.check(job, on_item=show)
    out.data(report.to_dict())
    failed = [i for i in report.items if i.ok is False]
    skipped = [i for i in report.items if i.ok is None]
    passed = len(report.items) - len(failed) - len(skipped)
    summary = f"{passed} passed, {len(failed)} failed, {len(skipped)} not run"
    if report.ok:
        out.text(f"All checks passed ({summary}).")
        return EXIT_OK
    out.text(f"Not ready: {summary}.")
    return EXIT_ERROR


@contextmanager
def checked(args: argparse.Namespace, job: SyncJob) -> Iterator[None]:
    """Check network and sign-in to both sides first; restate a later failure with its fix.

    ``plan``, ``apply`` and ``sync`` run their job inside this: a wrong
    ServiceNow password stops after exactly one 401 and before any Defender
    page is read, and a network or auth failure later in the run becomes one
    line naming the service, the host and the config key to change.

    Raises:
        PreflightError: a quick check failed, or a network/auth failure of the run.
    """
    config = load_deployment(args.config)
    source = config.connection(args.connection) if job.source is not None else None
    destination = config.destination(args.env, args.destination)
    preflight = Preflight(config=config, source=source, destination=destination)
    writes = args.command == "apply" or bool(getattr(args, "apply", False))
    preflight.quick_check(job, writes=writes)
    try:
        yield
    except CisyncError as exc:
        better = preflight.diagnose(exc, job)
        if better is None:
            raise
        raise better from exc
