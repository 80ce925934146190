"""``cisync init``: write a commented example config (or one for running sandboxes)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cisync_lib.errors import ConfigError
from cisync_lib.files import write_atomic
from cisync_lib.sync import (
    EXAMPLE_CONFIG,
    EXAMPLE_SECRETS,
    load_deployment,
    write_sandbox_config,
)

from ._common import EXIT_CODES_HELP, EXIT_OK, Output, output_options, run_command

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``init``."""
    parser = subparsers.add_parser(
        "init",
        parents=[output_options()],
        help="write a commented example deployment config and secrets file",
        description="Write a commented example config (cisync.toml) and a secrets file to fill "
        "in. With --sandbox, write a config for sandboxes started with `cisync sandbox serve "
        "--json` instead (TEST, and PROD with --prod-sandbox).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config", type=Path, default=Path("cisync.toml"), metavar="FILE",
        help="where to write the config (default: cisync.toml)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="overwrite an existing config")
    parser.add_argument(
        "--sandbox", metavar="INFO",
        help="what `cisync sandbox serve --json` printed: the file it went to, or the JSON "
        "line itself (source and TEST); run it again after a sandbox restart to refresh the "
        "URLs and the CA while keeping settings and consent",
    )  # fmt: skip
    parser.add_argument(
        "--prod-sandbox", metavar="INFO",
        help="a second sandbox's JSON (file or line), used as the PROD destination",
    )  # fmt: skip
    parser.set_defaults(handler=lambda a: run_command(a, _init))


def _read_info(value: str) -> dict[str, str]:
    """The sandbox's connection details: a JSON line given as is, or the file holding it."""
    # a str, never a Path: Path("https://...") would shorten "//" in what we print back
    what = "not the JSON of `cisync sandbox serve --json`"
    text = value.strip()
    source = "--sandbox"
    if not text.startswith("{"):
        source = value
        try:
            lines = Path(value).read_text(encoding="utf-8").strip().splitlines()
        except OSError as exc:
            raise ConfigError(
                file=value, problem=f"cannot read ({exc.strerror}); give the file `cisync "
                "sandbox serve --json > FILE` wrote, or the JSON line itself",
            ) from exc  # fmt: skip
        text = lines[0] if lines else ""
    try:
        info = json.loads(text)
    except ValueError as exc:
        raise ConfigError(file=source, problem=f"{what}: {exc}") from exc
    if not isinstance(info, dict):
        raise ConfigError(file=source, problem=what)
    return info


def _init(args: argparse.Namespace, out: Output) -> int:
    config: Path = args.config
    if args.sandbox is not None:
        prod = _read_info(args.prod_sandbox) if args.prod_sandbox else None
        write_sandbox_config(config.parent, _read_info(args.sandbox), prod, file_name=config.name)
        secrets = config.parent / "cisync-secrets.toml"
    else:
        if config.exists() and not args.force:
            raise ConfigError(file=str(config), problem="exists already (--force overwrites it)")
        config.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(config, EXAMPLE_CONFIG)
        secrets = config.parent / "cisync-secrets.toml"
        if not secrets.exists():
            write_atomic(secrets, EXAMPLE_SECRETS, mode=0o600)
    load_deployment(config)  # what we wrote must load
    out.data({"config": str(config.resolve()), "secrets_file": str(secrets.resolve())})
    out.text(f"Wrote {config} and {secrets}.")
    if args.sandbox is None:
        out.text(
            "Fill in the tenant, app and instance details, put the secrets in the secrets "
            f"file, then run: cisync check --config {config} --env test"
        )
    else:
        out.text(f"Next: cisync check --config {config} --env test, then cisync plan")
    return EXIT_OK
