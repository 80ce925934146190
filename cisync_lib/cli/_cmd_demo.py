"""``cisync demo``: the whole product end to end against a local sandbox, in well under a minute."""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
from pathlib import Path
from typing import Any

from cisync_lib.errors import ConfigError
from cisync_lib.files import write_atomic
from cisync_lib.settings import Consent
from cisync_lib.sync import (
    DeploymentConfig,
    SyncReport,
    job_from_config,
    load_deployment,
    write_sandbox_config,
)

from ._cmd_show import json_document
from ._common import EXIT_CODES_HELP, EXIT_ERROR, EXIT_OK, Output, output_options, run_command

__all__ = ["register"]

_SIZES = ("tiny", "small", "medium", "large")
_CONNECTION = "demo"


def register(subparsers: Any) -> None:
    """Add ``demo``."""
    parser = subparsers.add_parser(
        "demo",
        parents=[output_options()],
        help="sync a generated tenant into a local sandbox, end to end (start here)",
        description="Start a local sandbox (ServiceNow, Entra ID, Graph and Defender for Cloud "
        "Apps on 127.0.0.1, real HTTPS with a throwaway CA) with a generated tenant kept in "
        "--state, turn on user synchronization for TEST (consent recorded), sync into TEST, "
        "print the report, and sync again to show that nothing more is written. Run it again "
        "later: the state is reused and nothing is written.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--size", choices=_SIZES, default=None, help="the generated tenant's size (default: small)"
    )
    parser.add_argument(
        "--state", type=Path, default=Path(".cisync/demo"), metavar="DIR",
        help="where the sandbox data, config and reports are kept (default: .cisync/demo)",
    )  # fmt: skip
    parser.add_argument("--reset", action="store_true", help="delete --state and start over")
    parser.add_argument("--seed", type=int, default=None, help="the tenant's seed (default 0)")
    parser.set_defaults(handler=lambda a: run_command(a, _demo))


def _choose(args: argparse.Namespace) -> tuple[str, int]:
    """The tenant's size and seed: as asked, or as the state folder was made."""
    meta = args.state / "demo.json"
    saved: dict[str, Any] = {}
    if meta.exists():
        saved = json.loads(meta.read_text(encoding="utf-8"))
    size = args.size or saved.get("size", "small")
    seed = args.seed if args.seed is not None else saved.get("seed", 0)
    if saved and (saved.get("size"), saved.get("seed")) != (size, seed):
        raise ConfigError(
            file=str(meta),
            problem=f"the demo state was made with size {saved.get('size')!r} and seed "
            f"{saved.get('seed')!r}; add --reset to start over with size {size!r}, seed {seed}",
        )
    args.state.mkdir(parents=True, exist_ok=True)
    write_atomic(meta, json.dumps({"size": size, "seed": seed}) + "\n")
    return size, seed


def _consent(config: DeploymentConfig, out: Output) -> DeploymentConfig:
    settings = config.settings(_CONNECTION)
    if settings.effective("test").allow_user_sync:
        log = config.settings_file.consent_log(_CONNECTION)
        who = f" (consent by {log[-1].by} at {log[-1].at:%Y-%m-%d %H:%M}Z)" if log else ""
        out.text(f"TEST settings: allow_user_sync is already on{who}.")
        return config
    consent = Consent.now(f"{getpass.getuser()} (cisync demo)")
    changed = settings.with_override("test", "allow_user_sync", True)
    config.settings_file.save(changed, consent=consent)
    out.text(
        f"Saved demo settings for TEST: allow_user_sync = true (consent recorded: by "
        f"{consent.by} at {consent.at:%Y-%m-%d %H:%M}Z, in {config.path})."
    )
    return config.reload()


def _second_run_line(report: SyncReport) -> str:
    unchanged = report.counts.unchanged_app, report.counts.unchanged_link
    if report.writes == 0:
        return (
            f"Second run: 0 writes; the CMDB already matches Defender ({unchanged[0]} apps and "
            f"{unchanged[1]} links unchanged), in {sum(report.timings.values()):.1f} s."
        )
    return f"Second run: {report.writes} writes (expected none)."


def _demo(args: argparse.Namespace, out: Output) -> int:
    if args.reset and args.state.exists():
        shutil.rmtree(args.state)
        out.text(f"Removed {args.state}; starting over.")
    size, seed = _choose(args)
    # lazy: the sandbox is an optional extra
    try:
        from cisync_lib.sandbox import SERVICE_NAMES, Sandbox, SandboxConfig
    except ImportError as exc:  # pragma: no cover - depends on the environment
        out.error(exc, EXIT_ERROR)
        out.note("cisync demo needs the sandbox extra: pip install 'cisync-lib[sandbox,cli]'")
        return EXIT_ERROR
    out.text(
        f"Starting the sandbox: ServiceNow, Entra ID, Graph and Defender for Cloud Apps on "
        f"127.0.0.1 (HTTPS), {size} tenant, seed {seed}, state in {args.state} ..."
    )
    config = SandboxConfig(
        state_dir=args.state / "sandbox", size=size, seed=seed, services=SERVICE_NAMES
    )
    with Sandbox(config) as sandbox:
        path = write_sandbox_config(args.state, sandbox, connection=_CONNECTION)
        deployment = _consent(load_deployment(path), out)
        reports = []
        for run in (1, 2):
            with out.progress() as progress:
                job = job_from_config(deployment, "test", progress=progress)
                report = job.run(dry_run=False)
            report.raise_for_outcome()
            reports.append(report)
            saved = report.save(
                deployment.state_folder(_CONNECTION, "test") / f"demo-run{run}.json"
            )
            if run == 1:
                out.text("")
                out.text("Run 1 (sync into TEST, applied):")
                out.text(report.summary())
                if report.writes == 0:
                    out.text("Nothing written: the CMDB already matches (state reused).")
            else:
                out.text("")
                out.text(_second_run_line(report))
    out.data(
        {"config": str(path), "size": size, "seed": seed,
         "runs": [json_document(r, full=False) for r in reports]}
    )  # fmt: skip
    out.text("")
    out.text(f"Config: {path}   Report: {saved}")
    out.text(f"Why users went unmatched: cisync report {saved} --unmatched")
    out.text("Start over: cisync demo --reset")
    out.text("")
    out.text("Next: the tutorial walks from this sandbox to PROD, fixing unmatched users on the")
    out.text("way (docs/tutorial.md). For your own tenant and instance: cisync init, then")
    out.text("cisync check --env test, cisync plan --env test --show, cisync apply --env test.")
    return EXIT_OK if reports[-1].writes == 0 else EXIT_ERROR
