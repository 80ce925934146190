"""Each encoded-query operator on a small fixed data set, expected rows written by hand.

Sources (keys of /work/shared/reference/servicenow-semantics-and-throughput.md):

* [KB0715430] "Is not", "is not one of", "is same as" / "is different from" do
  not return records whose field is NULL or empty;
* [GRQ] GlideRecord query docs: "does not contain" (``NOT LIKE``) does not
  retrieve empty fields; ``sys_class_nameINSTANCEOFcmdb_ci_server`` returns
  servers and every class extending it;
* [OPS] "Operators available for filters and queries": ``ISEMPTY``,
  ``ISNOTEMPTY``, ``ANYTHING``, ``*`` = LIKE, ``!*`` = NOT LIKE, ``%`` =
  ENDSWITH, ``BETWEEN a@b``, ``ONToday@javascript:gs.daysAgoStart(0)@...``,
  ``sla_due<javascript:gs.daysAgoStart(0)``;
* [GS] GlideSystem: ``gs.daysAgoStart(n)``, ``gs.beginningOfToday()``,
  ``gs.dateGenerate(date, time)``: UTC ``yyyy-mm-dd hh:mm:ss`` of that moment in
  the user's time zone;
* [INST] "Use the INSTANCEOF operator".
"""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cisync_lib import SandboxQueryError
from cisync_lib.sandbox import ServiceNowStore
from cisync_lib.sandbox.servicenow._dates import evaluate_script
from cisync_lib.sandbox.servicenow._schema import Table

NOW = datetime(2026, 3, 4, 15, 30, 0, tzinfo=timezone.utc)  # a Wednesday


@pytest.fixture(scope="module")
def store():
    s = ServiceNowStore(clock=lambda: NOW)
    s.add_table(Table("cmdb_ci_server", "Server", parent="cmdb_ci"))
    s.add_table(Table("cmdb_ci_linux_server", "Linux Server", parent="cmdb_ci_server"))
    rows = [
        # class, name, short_description, install_status, first_discovered
        ("cmdb_ci", "alpha", "Mail relay", "1", "2026-03-04 09:00:00"),
        ("cmdb_ci_server", "beta", "", "2", "2026-03-03 23:59:59"),
        ("cmdb_ci_linux_server", "gamma", "mail store", "", "2026-03-01 00:00:00"),
        ("cmdb_ci_business_app", "delta", None, "7", ""),
        ("cmdb_ci_linux_server", "", "Web", "2", "2026-02-27 12:00:00"),
    ]
    for cls, name, description, status, discovered in rows:
        s.insert(
            cls,
            {
                "name": name,
                "short_description": description,
                "install_status": status,
                "first_discovered": discovered,
            },
        )
    yield s
    s.close()


def names(store, query):
    return sorted(r["name"] for r in store.query("cmdb_ci", query))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # KB0715430: "is not" leaves out the empty description of beta and delta
        ("short_description!=web", ["alpha", "gamma"]),
        # KB0715430: "is not one of" leaves out empty values
        ("short_descriptionNOT INweb,mail relay", ["gamma"]),
        ("install_statusNOT IN1", ["", "beta", "delta"]),
        # GRQ: "does not contain" leaves out empty fields; !* is the same operator [OPS]
        ("short_descriptionNOT LIKEmail", [""]),
        ("short_description!*mail", [""]),
        # OPS: * is contains, % ends with
        ("short_description*MAIL", ["alpha", "gamma"]),
        ("short_description%store", ["gamma"]),
        # OPS: is empty / is not empty / is anything
        ("short_descriptionISEMPTY", ["beta", "delta"]),
        ("short_descriptionISNOTEMPTY", ["", "alpha", "gamma"]),
        ("short_descriptionANYTHING", ["", "alpha", "beta", "delta", "gamma"]),
        ("nameISEMPTY^ORshort_description!=web", ["", "alpha", "gamma"]),
        # KB0715430: "is same as" / "is different from" leave out empty values
        ("nameSAMEASshort_description", []),
        ("nameNSAMEASshort_description", ["alpha", "gamma"]),
        # GRQ / INST: INSTANCEOF is the class and every class extending it
        ("sys_class_nameINSTANCEOFcmdb_ci_server", ["", "beta", "gamma"]),
        ("sys_class_nameINSTANCEOFcmdb_ci_linux_server", ["", "gamma"]),
        ("sys_class_nameINSTANCEOFcmdb_ci", ["", "alpha", "beta", "delta", "gamma"]),
        ("sys_class_name=cmdb_ci_server", ["beta"]),
        ("sys_class_nameINSTANCEOFu_no_such_class", []),
        # OPS: BETWEEN is inclusive; comparisons leave out empty values
        ("install_statusBETWEEN2@7", ["", "beta", "delta"]),
        ("install_status<2", ["alpha"]),
        ("first_discoveredBETWEEN2026-03-01 00:00:00@2026-03-03 23:59:59", ["beta", "gamma"]),
        ("first_discovered<2026-03-01 00:00:00", [""]),
        ("first_discovered>=2026-03-03", ["alpha", "beta"]),
    ],
)
def test_operator(store, query, expected):
    """The rows each operator returns on the fixed data, as the documentation says."""
    assert names(store, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # GS: daysAgoStart(0) = today 00:00:00, daysAgoEnd(1) = yesterday 23:59:59 (UTC user)
        ("first_discovered>=javascript:gs.daysAgoStart(0)", ["alpha"]),
        ("first_discovered>=javascript:gs.beginningOfToday()", ["alpha"]),
        ("first_discovered<=javascript:gs.daysAgoEnd(1)", ["", "beta", "gamma"]),
        # OPS: the "on" form the filter builder writes
        (
            "first_discoveredONYesterday@javascript:gs.beginningOfYesterday()"
            "@javascript:gs.endOfYesterday()",
            ["beta"],
        ),
        (
            "first_discoveredBETWEENjavascript:gs.dateGenerate('2026-02-27','start')"
            "@javascript:gs.dateGenerate('2026-03-01','00:00:00')",
            ["", "gamma"],
        ),
        ("first_discovered<javascript:gs.daysAgo(5)", [""]),
        ("first_discovered>javascript:gs.hoursAgo(7)", ["alpha"]),
        ("first_discovered>=javascript:gs.beginningOfThisWeek()", ["alpha", "beta"]),
        ("first_discovered>=javascript:gs.beginningOfThisMonth()", ["alpha", "beta", "gamma"]),
        ("first_discovered<javascript:gs.monthsAgoStart(0)", [""]),
    ],
)
def test_date_helpers_against_the_sandbox_clock(store, query, expected):
    """javascript:gs.* date helpers are evaluated against the store's clock (2026-03-04 15:30)."""
    assert names(store, query) == expected


def test_date_helpers_use_the_user_time_zone(store):
    """The helpers count days in the user's time zone (GS), returning UTC."""
    # 15:30 UTC is 00:30 on 5 March in Tokyo (UTC+9)
    tokyo = store.select(
        "cmdb_ci",
        "first_discovered>=javascript:gs.daysAgoStart(1)",
        time_zone=ZoneInfo("Asia/Tokyo"),
    )
    # yesterday in Tokyo (4 March) started at 2026-03-03 15:00:00 UTC
    assert sorted(r["name"] for r in tokyo.rows) == ["alpha", "beta"]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("nameDATEPARTmonday", "not supported by the sandbox"),
        ("first_discoveredRELATIVEGT@hour@ago@1", "not supported by the sandbox"),
        ("name=javascript:gs.getUserID()", "not one of the date helpers"),
        ("first_discovered<javascript:new GlideDateTime()", "other than the gs.* date helpers"),
        ("first_discovered<03/04/2026", "not a date"),
        ("first_discoveredONToday", "ON is supported as"),
        ("nameINjavascript:getMyGroups()", "IN lists are not evaluated"),
        ("nameINSTANCEOFcmdb_ci", "sys_class_name only"),
        # a JOIN is evaluated when it is last (test_related_queries.py), not when more follows
        ("JOINcmdb_ci.sys_id=cmdb_rel_ci.parent!type=x^name=y", "JOIN"),
        # related-list queries are evaluated (test_rlquery.py), unless a part inside is not
        ("RLQUERYcmdb_rel_ci.parent,>=1^typeDATEPARTx^ENDRLQUERY", "RLQUERY"),
    ],
)
def test_unsupported_parts_are_refused(store, query, problem):
    """Valid syntax the sandbox does not evaluate is refused, never ignored."""
    selection = store.select("cmdb_ci", query)
    assert "unsupported" in {i.kind for i in selection.invalid}
    with pytest.raises(SandboxQueryError, match=problem):
        store.query("cmdb_ci", query)


# --- the date helpers against a reference written from the GlideSystem page [GS] -----

ZONES = ("UTC", "Europe/Oslo", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Auckland")


def _midnight_utc(day, zone):
    """00:00:00 of ``day`` in ``zone``, as UTC text."""
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return local.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@given(
    now=st.datetimes(
        min_value=datetime(2020, 1, 1),
        max_value=datetime(2030, 12, 31),
        timezones=st.just(timezone.utc),
    ),
    zone=st.sampled_from(ZONES),
    days=st.integers(-40, 40),
)
def test_day_helpers_follow_the_user_calendar(now, zone, days):
    """daysAgoStart(n) is midnight n days ago in the user's zone; beginningOfThisMonth the 1st."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    start = evaluate_script(f"javascript:gs.daysAgoStart({days})", now, tz)
    assert start == _midnight_utc(today - timedelta(days=days), zone)
    first = evaluate_script("javascript:gs.beginningOfThisMonth()", now, tz)
    assert first == _midnight_utc(today.replace(day=1), zone)
    monday = evaluate_script("javascript:gs.beginningOfThisWeek()", now, tz)
    assert monday == _midnight_utc(today - timedelta(days=today.weekday()), zone)
    generated = evaluate_script(
        f"javascript:gs.dateGenerate('{today.isoformat()}','start')", now, tz
    )
    assert generated == _midnight_utc(today, zone)


@pytest.mark.parametrize(
    "query",
    [
        "owned_byNOT LIKEAbel",
        "owned_by!*Abel",
        "owned_byLIKEAbel",
        "owned_bySTARTSWITHAbel",
        "owned_byENDSWITHTuter",
        "owned_by>Abel",
        "owned_byBETWEENa@z",
    ],
)
def test_text_and_range_operators_on_a_reference_are_refused(query):
    """On a reference field an instance compares these with the display value [T]
    ("LIKE/STARTSWITH/ENDSWITH only work on string columns"; `=` alone uses the
    stored sys_id [ENC]). Comparing the sys_id instead would widen ``NOT LIKE``:
    Beth's record does not contain "Abel" either way, Abel's does by name only."""
    s = ServiceNowStore()
    abel = s.insert("sys_user", {"user_name": "abel.tuter", "name": "Abel Tuter"})
    beth = s.insert("sys_user", {"user_name": "beth", "name": "Beth Anglin"})
    s.insert("cmdb_ci_business_app", {"name": "a", "owned_by": abel})
    s.insert("cmdb_ci_business_app", {"name": "b", "owned_by": beth})
    selection = s.select("cmdb_ci_business_app", query)
    assert [i.kind for i in selection.invalid] == ["unsupported"]
    with pytest.raises(SandboxQueryError, match="reference"):
        s.query("cmdb_ci_business_app", query)
    # = and != on the stored sys_id stay evaluated
    assert [r["name"] for r in s.query("cmdb_ci_business_app", f"owned_by!={abel}")] == ["b"]
    s.close()


def test_sys_id_patterns_and_ranges_ignore_case():
    """An instance matches a sys_id in any case (as ``=`` does here): an upper-case
    value in ``NOT LIKE`` or ``>`` must not widen the answer to every row."""
    s = ServiceNowStore()
    first = s.insert("cmdb_ci_business_app", {"name": "a", "sys_id": "1" * 32})
    s.insert("cmdb_ci_business_app", {"name": "b", "sys_id": "d" * 32})
    assert first == "1" * 32

    def names(query):
        return sorted(r["name"] for r in s.query("cmdb_ci_business_app", query))

    assert names("sys_idNOT LIKEDDDD") == ["a"]
    assert names("sys_idLIKEDDDD") == ["b"]
    assert names("sys_idSTARTSWITHDD") == ["b"]
    assert names(f"sys_id>{'C' * 32}") == ["b"]
    assert names(f"sys_id<{'C' * 32}") == ["a"]
    s.close()
