"""Plans a person can review: names, not sys_ids, grouped, with totals (``plan --show``, ``show``)."""

from __future__ import annotations

import json
import re

from .conftest import cli_for

CONSENT = ("--i-consent", "--by", "tests")
SYS_ID = re.compile(r"\b[0-9a-f]{32}\b")


def test_plan_show_and_saved_plans_list_names_grouped_with_totals(tmp_path, fresh_sandbox):
    cli = cli_for(fresh_sandbox, tmp_path)
    assert (
        cli.run(*cli.with_config("settings", "set", "allow_user_sync", "true", *CONSENT)).code == 0
    )
    shown = cli.run(*cli.with_config("plan", "--show", "--limit", "3", "--out", "plan.json"))
    assert shown.code == 0, shown.stderr
    review = shown.stdout.split("Plan saved:")[0]
    assert "apps to create (" in review
    assert "user links to add (" in review
    assert "more not listed; --all lists every change" in review
    assert not SYS_ID.search(review), "the review shows names, not sys_ids"
    # each listed user is a real sys_user row, named as the instance names it (the store)
    people = {(u["name"], u["email"]) for u in fresh_sandbox.store.query("sys_user")}
    listed = re.findall(r"<-  (.+) <([^>]+)>", review)
    assert listed
    assert set(listed) <= people
    # apps are listed by the names Defender gives them (the generated tenant)
    tenant = fresh_sandbox.tenant
    names = {a.name for s in tenant.streams for a in tenant.apps("P30D", s.id)}
    created = re.findall(r"^    \+ (.+?)  \[Defender app \d+\]$", review, re.M)
    assert created
    assert set(created) <= names

    everything = cli.run("show", "plan.json", "--all")
    assert everything.code == 0, everything.stderr
    counts = json.loads((tmp_path / "plan.json").read_text())["report"]["counts"]
    adds = [line for line in everything.stdout.splitlines() if line.startswith("    + ")]
    assert len(adds) == counts["add_link"] + counts["create_app"]
    assert "cisync apply --env test --plan plan.json" in everything.stdout

    # `report` accepts a saved plan too (it used to fail with a version error)
    as_report = cli.run("report", "plan.json")
    assert as_report.code == 0, as_report.stderr
    assert "Changes (planned)" in as_report.stdout

    brief = cli.run("show", "plan.json", "--json").json()
    assert brief["kind"] == "plan"
    assert "actions" not in brief
    assert brief["actions_total"] == sum(
        v for k, v in counts.items() if not k.startswith(("unchanged", "pending"))
    )
    full = cli.run("show", "plan.json", "--json", "--all").json()
    emails = {row["user_email"] for row in full["actions"] if row["action"] == "add_link"}
    assert emails <= {email for _name, email in people}

    assert cli.run("show", "plan.json", "--html", "--out", "plan.html").code == 0
    page = (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert "<pre>" in page
    assert "user links to add" in page
    assert cli.run("show", "cisync.toml").code == 2

    # the report of the applied plan keeps the names the plan was reviewed with
    applied = cli.run(*cli.with_config("apply", "--yes", "--plan", "plan.json", "--json", "--all"))
    assert applied.code == 0, applied.stderr
    rows = [r for r in applied.json()["actions"] if r["action"] == "add_link"]
    assert rows
    assert {r["user_email"] for r in rows} <= {email for _name, email in people}
    assert all(r["user_email"] for r in rows)
