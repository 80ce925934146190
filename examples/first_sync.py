"""A first sync in a script: Defender (Graph) into the TEST ServiceNow instance, plan, then apply.

Run it: ``python examples/first_sync.py`` (needs ``pip install 'cisync-lib[sandbox]'``).
It starts the local sandbox (Entra ID, Graph, ServiceNow over HTTPS), writes a
deployment config pointing at it, and syncs. Against a real deployment, drop
the sandbox and load your own ``cisync.toml`` instead.
"""

import tempfile

from cisync_lib.sandbox import Sandbox, SandboxConfig
from cisync_lib.settings import Consent
from cisync_lib.sync import job_from_config, load_deployment, write_sandbox_config


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, Sandbox(SandboxConfig(size="small")) as sandbox:
        # a real deployment: config = load_deployment("cisync.toml")
        config = load_deployment(write_sandbox_config(folder, sandbox))

        # user links need "Allow User Synchronization" in TEST: a consented, logged change
        settings = config.settings().with_override("test", "allow_user_sync", True)
        config.settings_file.save(settings, consent=Consent.now("you@example.com"))
        config = config.reload()

        job = job_from_config(config, "test")
        preview = job.plan()  # reads Defender and the CMDB, writes nothing
        print(preview.summary())
        print()

        report = job.run(dry_run=False)  # the only call that writes
        print(report.summary())
        print()

        again = job_from_config(config, "test").run(dry_run=False)
        print(f"A second run wrote {again.writes} records.")
        assert report.writes == preview.changes > 0
        assert again.writes == 0


if __name__ == "__main__":
    main()
