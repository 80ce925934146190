"""Export the unmatched users, decide some of them, and feed the file back as the alias map.

Run it: ``python examples/unmatched_to_alias_map.py`` (needs the ``sandbox`` extra).

The unmatched report has one row per identifier that was not linked, with its
reason and blank ``action``, ``target_field`` and ``target_value`` columns. A
person fills them in (here a few lines of code stand in for the reviewer: each
``CONTOSO\\sam`` down-level name is mapped to the user whose ``user_name`` is
``sam``), and the same file becomes the alias map of the next run. The CLI does
the same with ``cisync report FILE --unmatched-csv unmatched.csv`` (or ``cisync
correlate``) and ``alias_map = "unmatched.csv"`` in the ``[correlation]`` table.
"""

import csv
import tempfile
from pathlib import Path

import tomlkit

from cisync_lib.sandbox import Sandbox, SandboxConfig
from cisync_lib.settings import Consent
from cisync_lib.sync import job_from_config, load_deployment, write_sandbox_config


def review(unmatched: Path, aliases: Path) -> int:
    """Stand-in for the person reviewing the report: decide the CONTOSO\\ names."""
    with unmatched.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames or [], list(reader)
    decided = 0
    for row in rows:
        domain, _, sam = row["normalized"].partition("\\")
        if row["reason_code"] == "DOMAIN_NOT_ALLOWED" and domain == "contoso":
            row.update(action="map", target_field="user_name", target_value=sam,
                       note="CONTOSO is our own domain", owner="identity team")  # fmt: skip
            decided += 1
    with aliases.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)  # undecided rows stay blank: they are not entries
    return decided


def use_alias_map(config_path: Path, aliases: Path) -> None:
    """Name the alias map in the config (tomlkit keeps the rest of the file as it was)."""
    document = tomlkit.parse(config_path.read_text(encoding="utf-8"))
    document["correlation"]["alias_map"] = aliases.name  # type: ignore[index]
    config_path.write_text(document.as_string(), encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, Sandbox(SandboxConfig(size="small")) as sandbox:
        folder = Path(tmp)
        path = write_sandbox_config(folder, sandbox)
        config = load_deployment(path)
        settings = config.settings().with_override("test", "allow_user_sync", True)
        config.settings_file.save(settings, consent=Consent.now("you@example.com"))

        before = job_from_config(load_deployment(path), "test").plan()
        before.write_unmatched_csv(folder / "unmatched.csv")
        decided = review(folder / "unmatched.csv", folder / "aliases.csv")
        use_alias_map(path, folder / "aliases.csv")
        after = job_from_config(load_deployment(path), "test").plan()

        print(f"Decided {decided} of {len(before.unmatched)} unmatched identifiers.")
        for reason in sorted(set(before.unmatched_by_reason) | set(after.unmatched_by_reason)):
            was = before.unmatched_by_reason.get(reason, 0)
            now = after.unmatched_by_reason.get(reason, 0)
            print(f"  {reason:<22} {was:>4} -> {now:>4}")
        print(f"Links to add: {before.counts.add_link} -> {after.counts.add_link}")
        assert len(after.unmatched) == len(before.unmatched) - decided
        assert after.counts.add_link > before.counts.add_link


if __name__ == "__main__":
    main()
