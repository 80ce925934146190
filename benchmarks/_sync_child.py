"""One sync job in a fresh process, against sandboxes another process runs; prints JSON.

Run by ``benchmarks/test_wall_clock.py`` with ``PYTHONPATH`` pointing at the tree under
test (today's code or an old commit), so it uses only the API both share: a deployment
config from ``write_sandbox_config`` with the library's default client settings, and
``job_from_config(...).run(dry_run=False)``.

Usage: ``python _sync_child.py <connection-info.json> <folder> <label>``
"""

import json
import resource
import sys
import time
from pathlib import Path

import tomlkit

import cisync_lib
from cisync_lib.settings import Consent
from cisync_lib.sync import job_from_config, load_deployment
from cisync_lib.sync._sandbox_config import write_sandbox_config


def _configure(info_path: str, folder: str) -> Path:
    path = Path(folder) / "cisync.toml"
    first = not path.exists()
    # refreshing an existing config puts the sandbox demo's keys back: drop them every time
    path = write_sandbox_config(folder, json.loads(Path(info_path).read_text("utf-8")))
    document = tomlkit.parse(path.read_text("utf-8"))
    for connection in document["connections"].values():
        # the library's own defaults, not the sandbox demo's tuning
        connection.pop("requests_per_second", None)
        connection.pop("concurrency", None)
    path.write_text(tomlkit.dumps(document), "utf-8")
    if first:
        config = load_deployment(path)
        settings = config.settings().with_override("test", "allow_user_sync", True)
        config.settings_file.save(settings, consent=Consent.now("benchmark"))
    return path


def _counts(written: object) -> dict:
    """A report's written counts: a PlanCounts today, a mapping in older trees."""
    as_dict = getattr(written, "as_dict", None)
    return as_dict() if as_dict is not None else dict(written)


def main(info_path: str, folder: str, label: str) -> None:
    path = _configure(info_path, folder)
    job = job_from_config(load_deployment(path), "test")
    cpu, wall = time.process_time(), time.perf_counter()
    report = job.run(dry_run=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps(
            {
                "label": label,
                "module": cisync_lib.__file__,
                "outcome": report.outcome,
                "wall": wall,
                "cpu": cpu,
                "timings": dict(report.timings),
                "requests": dict(report.requests),
                "written": _counts(report.written),
                "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                # what the Graph client saw (adaptive concurrency, throttling), if it says
                "read_stats": dict(getattr(job.source, "read_stats", None) or {}),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
