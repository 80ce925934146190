"""The store's record semantics and baseline data, without HTTP."""

from datetime import datetime, timezone

import pytest

from cisync_lib import SandboxError
from cisync_lib.sandbox import ServiceNowOptions, ServiceNowStore
from cisync_lib.sandbox.servicenow._baseline import seed_baseline


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 1, 8, 30, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(clock):
    s = ServiceNowStore(clock=clock)
    seed_baseline(s, ServiceNowOptions())
    yield s
    s.close()


def test_system_fields_and_defaults(store):
    """Inserts get a 32-hex sys_id, timestamps, creator, mod count, class and defaults."""
    sys_id = store.insert("sys_user", {"user_name": "ann", "first_name": "Ann", "last_name": "Lee"})
    row = store.get("sys_user", sys_id)
    assert len(sys_id) == 32
    assert int(sys_id, 16) >= 0
    assert row["sys_created_on"] == row["sys_updated_on"] == "2026-03-01 08:30:00"
    assert (row["sys_created_by"], row["sys_mod_count"], row["sys_class_name"]) == (
        "system",
        "0",
        "sys_user",
    )
    assert (row["active"], row["locked_out"], row["name"]) == ("true", "false", "Ann Lee")
    assert all(isinstance(v, str) for v in row.values())


def test_updates_bump_only_on_change(store, clock):
    """A write that changes nothing leaves sys_updated_on and sys_mod_count alone."""
    sys_id = store.insert("core_company", {"name": "Acme"})
    clock.now = datetime(2026, 3, 2, tzinfo=timezone.utc)
    assert store.update("core_company", sys_id, {"name": "Acme"})["sys_mod_count"] == "0"
    row = store.update("core_company", sys_id, {"name": "Acme Corp", "sys_mod_count": "99"})
    assert (row["sys_mod_count"], row["sys_updated_on"]) == ("1", "2026-03-02 00:00:00")
    with pytest.raises(SandboxError):
        store.update("core_company", "0" * 32, {"name": "x"})


def test_value_normalisation(store):
    """JSON values become ServiceNow strings; long strings are truncated like the database does."""
    sys_id = store.insert("cmdb_ci_business_app", {
        "name": "x" * 300, "user_base": 12, "short_description": None, "operational_status": 6.0,
        "owned_by": "AB" * 16, "correlation_id": ["a", 1, True],
    })  # fmt: skip
    row = store.get("cmdb_ci_business_app", sys_id)
    assert len(row["name"]) == 255
    assert (row["user_base"], row["short_description"], row["operational_status"]) == (
        "12",
        "",
        "6.0",
    )
    assert (row["owned_by"], row["correlation_id"]) == ("ab" * 16, "a,1,true")


def test_numbering_and_hierarchy(store):
    """Business apps are numbered APM...; their rows live in cmdb_ci's table."""
    first = store.insert("cmdb_ci_business_app", {"name": "One"})
    second = store.insert("cmdb_ci", {"name": "Two", "sys_class_name": "cmdb_ci_business_app"})
    numbers = [store.get("cmdb_ci_business_app", i)["number"] for i in (first, second)]
    assert numbers == ["APM0001001", "APM0001002"]
    assert store.get("sys_user", first) is None
    assert store.get("cmdb_ci", first)["sys_class_name"] == "cmdb_ci_business_app"


def test_delete_cascades_to_relationships(store):
    """Deleting a CI or user removes the relationship rows pointing at it."""
    app = store.insert("cmdb_ci_business_app", {"name": "App"})
    other = store.insert("cmdb_ci", {"name": "Other"})
    user = store.insert("sys_user", {"user_name": "u"})
    used_by = store.query("cmdb_rel_user_type", "name=Used by")[0]["sys_id"]
    store.insert("cmdb_rel_person", {"ci": app, "user": user, "type": used_by})
    store.insert(
        "cmdb_rel_ci", {"parent": other, "child": app, "type": "cb5592603751200032ff8c00dfbe5d17"}
    )
    store.delete("cmdb_ci_business_app", app)
    assert store.count("cmdb_rel_person") == 0
    assert store.count("cmdb_rel_ci") == 0
    assert store.get("sys_user", user) is not None
    with pytest.raises(SandboxError):
        store.delete("cmdb_ci", app)


def test_duplicate_and_bad_sys_ids(store):
    """A given sys_id is kept exactly as given, never reused (in any case), at most 32 chars."""
    store.insert("core_company", {"sys_id": "c" * 32, "name": "A"})
    with pytest.raises(SandboxError, match="already exists"):
        store.insert("core_company", {"sys_id": "C" * 32, "name": "B"})
    mixed = "AbC0123456789dEf0123456789abcdeF"
    assert store.insert("core_company", {"sys_id": mixed, "name": "M"}) == mixed
    assert store.get("core_company", mixed)["sys_id"] == mixed
    upper = "ABC0123456789DEF0123456789ABCDEF"
    assert store.insert("core_company", {"sys_id": upper, "name": "U"}) == upper
    assert store.get("core_company", upper.lower())["name"] == "U"
    assert store.insert("core_company", {"sys_id": "global_x", "name": "G"}) == "global_x"
    with pytest.raises(SandboxError, match="invalid sys_id"):
        store.insert("core_company", {"sys_id": "x" * 33, "name": "B"})
    with pytest.raises(SandboxError, match="invalid sys_id"):
        store.insert("core_company", {"sys_id": "a b", "name": "B"})
    with pytest.raises(SandboxError, match="unknown table"):
        store.insert("u_nope", {})


def test_baseline_records(store):
    """Relationship types with real sys_ids, "Used by", and the choices a sync needs."""
    uses = store.query("cmdb_rel_type", "name=Uses::Used by")[0]
    assert uses["sys_id"] == "cb5592603751200032ff8c00dfbe5d17"
    assert (uses["parent_descriptor"], uses["child_descriptor"]) == ("Uses", "Used by")
    assert store.count("cmdb_rel_type") == 7
    assert store.query("cmdb_rel_user_type", "name=Used by")[0]["parent_descriptor"] == "Used by"
    labels = store.choice_labels
    assert labels("cmdb_ci_business_app", "application_type")["saas"] == "SaaS"
    assert labels("cmdb_ci_business_app", "install_type")["cloud"] == "Cloud"
    assert labels("cmdb_ci_business_app", "operational_status")["6"] == "Retired"
    assert "MSDefenderCloudApps" in labels("cmdb_ci", "discovery_source")
    rule = store.query("cmdb_identifier_entry")[0]
    assert (rule["table"], rule["criterion_attributes"]) == (
        "cmdb_ci_business_app",
        "correlation_id",
    )


def test_dictionary_describes_columns(store):
    """sys_dictionary lists each table's columns with type and reference target."""
    entry = store.query("sys_dictionary", "name=cmdb_rel_person^element=type")[0]
    assert (entry["internal_type"], entry["reference"]) == ("reference", "cmdb_rel_user_type")
    inherited = store.count("sys_dictionary", "name=cmdb_ci_business_app^element=name")
    assert inherited == 0  # inherited columns are described on the parent, as on an instance
    assert store.count("sys_dictionary", "name=cmdb_ci^element=correlation_id") == 1
    assert store.query("sys_db_object", "name=cmdb_ci_business_app")[0]["super_class"]
    assert store.add_column("cmdb_ci_business_app", "u_url")
    assert not store.add_column("cmdb_ci_business_app", "u_url")
    assert store.count("sys_dictionary", "name=cmdb_ci_business_app^element=u_url") == 1


def test_child_choices_override_the_parent(store):
    """A choice list on the child class replaces the parent's for that class."""
    store.insert("sys_choice", {"name": "cmdb_ci_business_app", "element": "operational_status",
                                "value": "1", "label": "In Production", "language": "en"})  # fmt: skip
    assert store.choice_labels("cmdb_ci_business_app", "operational_status") == {
        "1": "In Production"
    }
    assert store.choice_labels("cmdb_ci", "operational_status")["1"] == "Operational"


def test_state_persists_in_a_file(tmp_path):
    """A file-backed store keeps its records and number counters across reopenings."""
    path = tmp_path / "sn.sqlite3"
    first = ServiceNowStore(path)
    seed_baseline(first, ServiceNowOptions())
    app = first.insert("cmdb_ci_business_app", {"name": "Kept"})
    first.close()
    second = ServiceNowStore(path)
    seed_baseline(second, ServiceNowOptions())
    assert second.get("cmdb_ci_business_app", app)["name"] == "Kept"
    assert second.count("cmdb_rel_type") == 7
    other = second.insert("cmdb_ci_business_app", {"name": "Next"})
    assert second.get("cmdb_ci_business_app", other)["number"] == "APM0001002"
    second.close()
