"""From TEST to PROD: tune the settings in TEST, review the diff, promote, and sync PROD.

Run it: ``python examples/promote_test_to_prod.py`` (needs the ``sandbox`` extra).

Two sandboxes stand in for two ServiceNow instances: one tagged TEST, one
tagged PROD, fed by the same Defender tenant. TEST gets user links and a
stricter maximum risk score; after a sync into TEST, ``diff`` shows what PROD
would change, and ``promote`` copies TEST's settings (here all of them; name
keys to promote only some) with a recorded consent. The CLI equivalent:
``cisync settings diff`` and ``cisync settings promote --i-consent``.
"""

import tempfile

from cisync_lib.sandbox import Sandbox, SandboxConfig
from cisync_lib.settings import Consent
from cisync_lib.sync import job_from_config, load_deployment, write_sandbox_config


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        Sandbox(SandboxConfig(size="small")) as test_instance,
        Sandbox(SandboxConfig(size="small", services=("servicenow",))) as prod_instance,
    ):
        path = write_sandbox_config(folder, test_instance, prod_instance)
        config = load_deployment(path)
        tuned = (
            config.settings()
            .with_override("test", "allow_user_sync", True)
            .with_override("test", "max_risk_score", 8)
        )
        config.settings_file.save(tuned, consent=Consent.now("alice@example.com"))

        test = job_from_config(load_deployment(path), "test").run(dry_run=False)
        print(test.summary())
        print()

        config = load_deployment(path)
        print("TEST against PROD before promotion:")
        for row in config.settings().diff():
            print(f"  {row}")
        promoted = config.settings().promote()  # or .promote(["max_risk_score"])
        config.settings_file.save(promoted, consent=Consent.now("bob@example.com"))
        config = load_deployment(path)
        assert config.settings().diff() == ()
        for entry in config.settings_file.consent_log(config.connection().name):
            print(f"  consent: {entry.by} at {entry.at:%H:%M:%S} ({entry.environment.value}): "
                  f"{'; '.join(entry.changes)}")  # fmt: skip
        print()

        prod = job_from_config(config, "prod").run(dry_run=False)
        print(prod.summary())
        assert prod.written == test.written  # same settings, same source: the same changes
        assert prod_instance.store.count("cmdb_rel_person") == test.written.add_link


if __name__ == "__main__":
    main()
