"""Consent that holds when the file is edited by hand: a run checks the consent log.

Saving a change through :meth:`SettingsFile.save` needs a :class:`Consent` and
leaves a consent-log entry. A person can still edit the TOML file and tick a
setting on without one. So before a job runs, every setting that needs consent
(:attr:`SettingSpec.needs_consent`, e.g. ``allow_user_sync``) and is not at its
product default must match the state the newest log entry of that environment
recorded for it: the entry's change ends in exactly the state the file holds
now. No entry, or an entry that left it in another state, refuses the run.
"""

from __future__ import annotations

from collections.abc import Sequence

from cisync_lib.errors import ConsentMissingError

from ._consent import ConsentRecord
from ._diff import describe_state
from ._file import SettingsFile
from ._registry import SETTINGS, Environment

__all__ = ["missing_consent", "require_consent"]


def _recorded_state(
    log: Sequence[ConsentRecord], environment: Environment, name: str
) -> str | None:
    """The state the newest log entry of ``environment`` left ``name`` in, if any entry did."""
    for record in reversed(log):
        if record.environment is not environment:
            continue
        for line in reversed(record.changes):
            head, _, rest = line.partition(": ")
            if head.strip() == name:
                return rest.rpartition("->")[2].strip() if "->" in rest else rest.strip()
    return None


def missing_consent(
    file: SettingsFile, connection: str, environment: Environment | str
) -> tuple[str, ...]:
    """The settings of ``environment`` that need consent, are on, and have none recorded.

    Args:
        file: the loaded settings (or deployment) file.
        connection: the connection's name.
        environment: TEST or PROD.
    """
    env = Environment(environment)
    settings = file.connection(connection, missing_ok=True)
    effective = settings.effective(env)
    log = file.consent_log(connection)
    missing = []
    for name, spec in SETTINGS.items():
        if not spec.needs_consent or effective[name] == spec.default:
            continue
        now = describe_state(name, settings.overrides[env].get(name))
        if _recorded_state(log, env, name) != now:
            missing.append(name)
    return tuple(missing)


def require_consent(file: SettingsFile, connection: str, environment: Environment | str) -> None:
    """Refuse a run whose settings need consent the file's consent log does not record.

    Raises:
        ConsentMissingError: naming the file, the settings and the command that
            records consent.
    """
    env = Environment(environment)
    missing = missing_consent(file, connection, env)
    if missing:
        raise ConsentMissingError(
            file=str(file.path), connection=connection, environment=env.value, settings=missing
        )
