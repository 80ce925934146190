"""``cisync settings show|set|diff|promote``: settings per environment, changed with consent."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Sequence
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from cisync_lib.errors import ConfigError
from cisync_lib.settings import (
    SETTINGS,
    ConnectionSettings,
    Consent,
    EffectiveValue,
    Environment,
    SettingDiff,
    SettingsFile,
    missing_consent,
)
from cisync_lib.sync import DeploymentConfig, load_deployment

from ._common import (
    EXIT_CODES_HELP,
    EXIT_OK,
    Output,
    config_options,
    output_options,
    run_command,
)

__all__ = ["register"]


def _add(actions: Any, name: str, help_text: str, *, env: bool, consent: bool) -> Any:
    parser = actions.add_parser(
        name,
        parents=[config_options(env=False), output_options()],
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if env:
        parser.add_argument("--env", choices=("test", "prod"), required=True)
    if consent:
        parser.add_argument(
            "--i-consent",
            action="store_true",
            dest="consent",
            help="consent to the change (recorded with who and when); without it nothing "
            "is saved and the exit code is 3",
        )
        parser.add_argument(
            "--by", metavar="WHO", help="who consents (default: the operating-system user)"
        )
    return parser


def register(subparsers: Any) -> None:
    """Add ``settings`` and its actions."""
    settings = subparsers.add_parser(
        "settings",
        help="show, change, compare and promote the TEST and PROD settings",
        description="Settings per environment; every change needs --i-consent.",
    )
    actions = settings.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    show = _add(
        actions, "show", "show the effective settings of TEST and PROD", env=False, consent=False
    )
    show.set_defaults(handler=lambda a: run_command(a, _show))
    change = _add(actions, "set", "override one setting in one environment", env=True, consent=True)
    change.add_argument("name", choices=list(SETTINGS), metavar="NAME", help="the setting")
    change.add_argument("value", nargs="?", help='the value (TOML: true, 4, "sanctioned")')
    change.add_argument(
        "--unset", action="store_true", help="remove the override (back to the default)"
    )
    change.add_argument(
        "--no-override",
        action="store_true",
        help='keep the value but leave the "override default" box unticked',
    )
    change.set_defaults(handler=lambda a: run_command(a, _set))
    diff = _add(actions, "diff", "compare TEST with PROD", env=False, consent=False)
    diff.add_argument("--all", action="store_true", help="list equal settings too")
    diff.set_defaults(handler=lambda a: run_command(a, _diff))
    promote = _add(
        actions, "promote", "copy TEST's settings to PROD (all, or the named ones)", env=False,
        consent=True,
    )  # fmt: skip
    promote.add_argument("keys", nargs="*", metavar="NAME", help="settings to promote")
    promote.set_defaults(handler=lambda a: run_command(a, _promote))


def _load(args: argparse.Namespace) -> tuple[DeploymentConfig, ConnectionSettings]:
    config = load_deployment(args.config)
    return config, config.settings(args.connection)


def _effective(settings: ConnectionSettings) -> dict[str, dict[str, EffectiveValue]]:
    """Each setting's effective value per environment (TEST, then PROD)."""
    out: dict[str, dict[str, EffectiveValue]] = {name: {} for name in SETTINGS}
    for env in Environment:
        for name, item in settings.effective(env).values.items():
            out[name][env.value] = item
    return out


def _log(file: SettingsFile, connection: str) -> list[dict[str, Any]]:
    return [
        {"by": r.by, "at": r.at.isoformat(), "environment": r.environment.value,
         "changes": list(r.changes)}
        for r in file.consent_log(connection)
    ]  # fmt: skip


def _show(args: argparse.Namespace, out: Output) -> int:
    config, settings = _load(args)
    table = _effective(settings)
    log = _log(config.settings_file, settings.connection)
    data = {
        name: {env: {"value": item.value, "source": item.source} for env, item in sides.items()}
        for name, sides in table.items()
    }
    out.data({"connection": settings.connection, "settings": data, "consent_log": log})
    out.text(f"Connection {settings.connection!r} ({config.path})")
    out.text(f"{'setting':<22}{'test':<24}prod")
    for name, sides in table.items():
        cells = [item.describe() for item in sides.values()]
        out.text(f"{name:<22}{cells[0]:<24}{cells[1]}")
    if log:
        last = log[-1]
        out.text(
            f"Consent log: {len(log)} entr{'y' if len(log) == 1 else 'ies'}; last by "
            f"{last['by']} at {last['at']} ({last['environment']}): {'; '.join(last['changes'])}"
        )
    return EXIT_OK


def _parse_value(raw: str) -> object:
    try:
        return tomlkit.parse(f"v = {raw}").unwrap()["v"]
    except TOMLKitError:
        return raw  # a bare word, e.g. sanctioned


def _consent(args: argparse.Namespace) -> Consent | None:
    return Consent.now(args.by or getpass.getuser()) if args.consent else None


def _save(
    args: argparse.Namespace,
    out: Output,
    config: DeploymentConfig,
    changed: ConnectionSettings,
    confirm: Sequence[tuple[str, str]] = (),
) -> int:
    before = config.settings(args.connection)
    changes = [str(c) for c in changed.changes_from(before)]
    changes += [
        f"{env}: {name}: consent recorded for the value in the file" for env, name in confirm
    ]
    saved = config.settings_file.save(changed, consent=_consent(args), confirm=confirm)
    entry = _log(saved, changed.connection)[-1:] if changes else []
    out.data({"connection": changed.connection, "changes": changes, "consent": entry})
    for line in changes or ["no change: nothing saved"]:
        out.text(line)
    if changes:
        out.text(f"Saved to {config.path} with consent by {entry[0]['by'] if entry else '?'}")
    return EXIT_OK


def _set(args: argparse.Namespace, out: Output) -> int:
    config, settings = _load(args)
    if args.unset:
        changed = settings.without_override(args.env, args.name)
    else:
        if args.value is None:
            raise ConfigError(key=args.name, problem="a value is needed unless --unset is given")
        value = _parse_value(args.value)
        changed = settings.with_override(args.env, args.name, value, enabled=not args.no_override)
    confirm: list[tuple[str, str]] = []
    if args.consent and not changed.changes_from(settings):
        # the value is already in the file (put there by hand): consenting records it
        missing = missing_consent(config.settings_file, settings.connection, args.env)
        confirm = [(args.env, args.name)] if args.name in missing else []
    return _save(args, out, config, changed, confirm)


def _diff(args: argparse.Namespace, out: Output) -> int:
    _, settings = _load(args)
    rows = settings.diff(only_differences=not args.all)
    out.data([_diff_row(r) for r in rows])
    for row in rows:
        out.text(("* " if row.differs else "  ") + row.describe())
    if not rows:
        out.text("TEST and PROD use the same settings.")
    return EXIT_OK


def _diff_row(row: SettingDiff) -> dict[str, Any]:
    return {
        "name": row.name,
        "test": {"value": row.a.value, "source": row.a.source},
        "prod": {"value": row.b.value, "source": row.b.source},
        "differs": row.differs,
    }


def _promote(args: argparse.Namespace, out: Output) -> int:
    config, settings = _load(args)
    return _save(args, out, config, settings.promote(args.keys or None))
