"""Write ``examples/explore.ipynb`` from the cells below (run after editing them).

The notebook is generated so it is always valid nbformat JSON with no outputs;
a test checks that the committed file matches this script.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

# fmt: off
CELLS = [
    ("md", """\
# Explore a Defender tenant, preview a sync, apply it to TEST

This notebook runs against the local sandbox: a generated Defender for Cloud Apps
tenant behind a local Entra ID and Graph, and a local ServiceNow instance, all over
HTTPS. Nothing leaves your machine. Swap the first cell for
`load_deployment("cisync.toml")` to explore your own tenant (read-only until the
last cell, which writes to TEST)."""),
    ("code", """\
import tempfile
from io import BytesIO

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Image, display

from cisync_lib.sandbox import Sandbox, SandboxConfig
from cisync_lib.settings import Consent
from cisync_lib.sync import job_from_config, load_deployment, write_sandbox_config

plt.switch_backend("Agg")  # no display needed (CI, servers); figures are shown as PNG images


def show(figure):
    # display a figure as a PNG image: works with the Agg backend, in any front end
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    display(Image(buffer.getvalue()))


folder = tempfile.mkdtemp(prefix="cisync-notebook-")
sandbox = Sandbox(SandboxConfig(size="small")).start()
config = load_deployment(write_sandbox_config(folder, sandbox))

# user links need "Allow User Synchronization" in TEST: a consented change, logged in the config
settings = config.settings().with_override("test", "allow_user_sync", True)
config.settings_file.save(settings, consent=Consent.now("notebook@example.com"))
job = job_from_config(config.reload(), "test")
job"""),
    ("md", """\
## The tenant's apps

One read of Defender (the period and the risk filter come from the TEST settings)."""),
    ("code", """\
data = job.source.read(period=job.effective.report_time_frame, include_users=True)
apps = pd.DataFrame(
    {
        "app": m.app.name,
        "risk_score": m.app.risk_score,
        "sanction_state": m.app.sanction_state.value,
        "streams": len(m.observations),
        "users": len(data.users.get(m.id, ())),
    }
    for m in data.apps
).sort_values("users", ascending=False)
apps.head(10)"""),
    ("code", """\
by_score = apps["risk_score"].value_counts().sort_index()
ax = by_score.plot.bar(title="Apps by risk score (0 riskiest, 10 safest)", ylabel="apps")
show(ax.figure)"""),
    ("md", """\
## Preview the sync

`job.plan()` reads Defender, matches every user identifier to `sys_user`, reads the
CMDB and computes the plan. It writes nothing."""),
    ("code", """\
report = job.plan()
report  # rendered as HTML"""),
    ("code", """\
reasons = pd.Series(report.matching["by_reason"], name="identifiers").sort_values()
share = (reasons / reasons.sum()).rename("share")
pd.concat([reasons, share], axis=1)"""),
    ("code", """\
matched = {"MATCHED", "MATCHED_INACTIVE"}
colors = ["tab:green" if reason in matched else "tab:red" for reason in share.index]
ax = share.plot.barh(color=colors, title="Identifiers by match reason (green: linked)")
rate = report.matching["match_rate"]
ax.set_xlabel(f"share of {reasons.sum()} identifiers; match rate {rate:.1%}")
show(ax.figure)"""),
    ("code", """\
unmatched = pd.DataFrame(report.rows("unmatched"))
unmatched[["identifier", "reason", "apps", "message"]].head(10)"""),
    ("code", """\
plan = pd.DataFrame(report.rows())
plan.groupby("action").size().rename("changes")"""),
    ("md", """\
## Apply to TEST

`run(dry_run=False)` is the only call that writes. A second run finds nothing to do."""),
    ("code", """\
applied = job.run(dry_run=False)
print(applied.summary())
print("second run writes:", job.run(dry_run=False).writes)"""),
    ("code", """\
sandbox.close()"""),
]
# fmt: on


def build() -> nbformat.NotebookNode:
    """The notebook, without outputs."""
    cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:02d}"  # stable ids: regenerating changes nothing
    nbformat.validate(notebook)
    return notebook


if __name__ == "__main__":
    target = Path(__file__).with_name("explore.ipynb")
    nbformat.write(build(), target)
    print(f"wrote {target}")
