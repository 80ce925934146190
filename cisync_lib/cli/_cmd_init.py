"""``cisync init``: write a commented example config (or one for running sandboxes)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cisync_lib._atomic import write_atomic
from cisync_lib._errors import ConfigError
from cisync_lib.sync import EXAMPLE_CONFIG, EXAMPLE_SECRETS, load_deployment
from cisync_lib.sync._sandbox_config import write_sandbox_config

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
        "--sandbox", type=Path, metavar="INFO",
        help="the JSON line `cisync sandbox serve --json` printed (source and TEST)",
    )  # fmt: skip
    parser.add_argument(
        "--prod-sandbox", type=Path, metavar="INFO",
        help="a second sandbox's JSON line, used as the PROD destination",
    )  # fmt: skip
    parser.set_defaults(handler=lambda a: run_command(a, _init))


def _read_info(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8").strip().splitlines()
        info = json.loads(text[0]) if text else None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            file=str(path), problem=f"not the JSON of `cisync sandbox serve --json`: {exc}"
        ) from exc
    if not isinstance(info, dict):
        raise ConfigError(file=str(path), problem="not the JSON of `cisync sandbox serve --json`")
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
            f"file, then run: cisync plan --config {config} --env test"
        )
    else:
        out.text(f"Next: cisync plan --config {config} --env test")
    return EXIT_OK
