"""A custom correlation strategy in a sync job: recover users from their local logons.

Run it: ``python examples/sync_custom_strategy.py`` (needs the ``sandbox`` extra).

Defender reports some users as ``sam\\DESKTOP-1A2B3C`` (a logon to a local
computer). The product skips them, and so does the default chain
(``LOCAL_ACCOUNT``). In a company whose laptops use the directory's account
names, the part before the backslash *is* the ``sys_user.user_name``: this
strategy matches it, except for built-in accounts. Compare the plan before and
after. ``examples/custom_strategy.py`` shows another strategy, and the docs page
"Write a correlation strategy and use it in a sync" explains the protocol.
"""

import tempfile

from attrs import frozen

from cisync_lib.correlation import InputKind, LookupKey, ParsedName, StrategyOutcome
from cisync_lib.sandbox import Sandbox, SandboxConfig
from cisync_lib.settings import Consent
from cisync_lib.sync import job_from_config, load_deployment, write_sandbox_config
from cisync_lib.typing import CandidateIndex

BUILT_IN_ACCOUNTS = frozenset({"administrator", "admin", "guest", "defaultaccount"})


@frozen
class LocalLogonStrategy:
    """``user\\COMPUTER`` -> the ``sys_user`` whose ``user_name`` is ``user``."""

    name: str = "local_logon"
    confidence: float = 0.85  # above the 0.8 threshold: a match, not just a suggestion

    def applies_to(self, parsed: ParsedName) -> bool:
        return parsed.kind is InputKind.LOCAL_ACCOUNT and parsed.local not in BUILT_IN_ACCOUNTS

    def lookup_keys(self, parsed: ParsedName) -> tuple[LookupKey, ...]:
        return (LookupKey(field="user_name", value=parsed.local or ""),)

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        return StrategyOutcome.from_keys(self, parsed, index, self.lookup_keys(parsed))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, Sandbox(SandboxConfig(size="small")) as sandbox:
        config = load_deployment(write_sandbox_config(folder, sandbox))
        settings = config.settings().with_override("test", "allow_user_sync", True)
        config.settings_file.save(settings, consent=Consent.now("you@example.com"))
        config = config.reload()

        default = job_from_config(config, "test")
        before = default.plan()

        # the same job with another chain: the config's rules and alias map are kept,
        # nothing in the config changes, and `default` stays as it was
        custom = default.with_strategies(["email_upn", LocalLogonStrategy()])
        after = custom.plan()

        for label, report in (("default chain", before), ("with local_logon", after)):
            local = report.unmatched_by_reason.get("LOCAL_ACCOUNT", 0)
            print(
                f"{label:>17}: {report.counts.add_link} links to add, "
                f"{len(report.unmatched)} identifiers not linked, {local} of them local logons"
            )
        assert after.counts.add_link > before.counts.add_link
        custom.run(dry_run=False)
        print("Applied with the custom chain.")


if __name__ == "__main__":
    main()
