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
    ("md", """\
The match rate counts only identifiers that name a person: skipped ones
(anonymised names, local logons, empty names) are left out of its denominator and
shown apart. The linked bars on the left add up to the match rate of the summary."""),
    ("code", """\
status_of = {row["reason"]: row["status"] for row in report.rows("unmatched")}
linked = {"MATCHED", "MATCHED_INACTIVE"}
reasons = pd.DataFrame({"identifiers": pd.Series(report.matching["by_reason"])})
reasons["kind"] = [
    "linked" if r in linked else "skipped" if status_of.get(r) == "SKIPPED" else "not matched"
    for r in reasons.index
]
counted = reasons[reasons["kind"] != "skipped"].copy()
skipped = reasons[reasons["kind"] == "skipped"].copy()
counted["percent"] = 100 * counted["identifiers"] / counted["identifiers"].sum()
skipped["percent"] = 100 * skipped["identifiers"] / reasons["identifiers"].sum()
rate = report.matching["match_rate"]
linked_percent = counted.loc[counted["kind"] == "linked", "percent"].sum()
assert abs(linked_percent - 100 * rate) < 0.05, "the chart agrees with the stated match rate"
pd.concat([counted, skipped]).sort_values(["kind", "identifiers"])"""),
    ("code", """\
def value_labels(table):
    return [f"{p:.1f}% ({n})" for p, n in zip(table["percent"], table["identifiers"], strict=True)]


fig, (left, right) = plt.subplots(
    1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2, 1]}, constrained_layout=True
)
counted = counted.sort_values("percent")
colors = ["tab:green" if k == "linked" else "tab:red" for k in counted["kind"]]
bars = left.barh(counted.index, counted["percent"], color=colors)
left.bar_label(bars, labels=value_labels(counted), padding=3)
left.set_title(
    f"Match rate {rate:.1%} of {counted['identifiers'].sum()} identifiers that name a person"
)
left.set_xlabel("% of the identifiers counted (green: linked, red: not matched)")
left.set_xlim(0, max(counted["percent"].max() * 1.3, 10))
skipped = skipped.sort_values("percent")
bars = right.barh(skipped.index, skipped["percent"], color="tab:gray")
right.bar_label(bars, labels=value_labels(skipped), padding=3)
right.set_title(f"Skipped, not counted: {skipped['identifiers'].sum()}")
right.set_xlabel("% of all identifiers")
right.set_xlim(0, max(skipped["percent"].max() * 1.6, 5) if len(skipped) else 5)
show(fig)"""),
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
