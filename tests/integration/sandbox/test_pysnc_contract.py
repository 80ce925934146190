"""Contract suite: unmodified pysnc 1.2.1 against the sandbox, after pysnc's own test scenarios."""

import pysnc
import pytest
from pysnc.exceptions import RequestException

from .conftest import make_client, unique


def _users(sb, tag, count):
    """Seed ``count`` users named ``{tag}-NN`` straight into the store; returns their sys_ids."""
    return [
        sb.store.insert(
            "sys_user", {"user_name": f"{tag}-{i:02d}", "email": f"{tag}-{i:02d}@x.test"}
        )
        for i in range(count)
    ]


def test_insert_get_update_delete(sb, client):
    """The CRUD cycle of pysnc's test_snc_api_write, checked against the store."""
    name = unique("crud")
    gr = client.GlideRecord("sys_user")
    gr.initialize()
    gr.user_name = name
    gr.first_name = "Ada"
    gr.last_name = "Lovelace"
    sys_id = str(gr.insert())
    row = sb.store.get("sys_user", sys_id)
    assert row["user_name"] == name
    assert row["name"] == "Ada Lovelace"
    assert row["sys_created_by"] == sb.servicenow_username
    assert row["sys_mod_count"] == "0"

    gr = client.GlideRecord("sys_user")
    assert gr.get(sys_id)
    assert gr.get_value("user_name") == name
    gr.title = "Countess"
    gr.update()
    row = sb.store.get("sys_user", sys_id)
    assert (row["title"], row["sys_mod_count"]) == ("Countess", "1")

    gr = client.GlideRecord("sys_user")
    assert gr.get(sys_id)
    gr.delete()
    assert sb.store.get("sys_user", sys_id) is None


def test_get_missing_record_returns_false(client):
    """A JSON 404 makes get() return False instead of raising."""
    gr = client.GlideRecord("sys_user")
    assert gr.get("0" * 32) is False


def test_get_by_field(sb, client):
    """get(field, value) runs a list query and returns the first match."""
    tag = unique("byfield")
    ids = _users(sb, tag, 2)
    gr = client.GlideRecord("sys_user")
    assert gr.get("user_name", f"{tag}-01")
    assert gr.sys_id == ids[1]


@pytest.mark.parametrize("batch_size", [1, 3, 7, 100])
def test_iteration_across_pages(sb, client, batch_size):
    """Iterating with a small batch_size pages through every row exactly once."""
    tag = unique("page")
    ids = _users(sb, tag, 10)
    gr = client.GlideRecord("sys_user", batch_size=batch_size)
    gr.add_query("user_name", "STARTSWITH", tag)
    gr.query()
    seen = [r.sys_id for r in gr]
    assert sorted(seen) == sorted(ids)
    assert len(gr) == 10
    lists = sb.request_log.round_trips("servicenow", "GET", "/api/now/table/sys_user")
    assert lists == max(1, -(-10 // batch_size))


@pytest.mark.parametrize(
    ("limit", "batch_size"), [(1, 3), (3, 3), (4, 3), (5, 100), (9, 4), (25, 3)]
)
def test_limit_edges(sb, client, limit, batch_size):
    """gr.limit caps the rows iterated, below, at and across batch boundaries."""
    tag = unique("limit")
    _users(sb, tag, 10)
    gr = client.GlideRecord("sys_user", batch_size=batch_size)
    gr.add_query("user_name", "STARTSWITH", tag)
    gr.limit = limit
    gr.query()
    assert len([r.sys_id for r in gr]) == min(limit, 10)
    assert gr.get_row_count() == 10


def test_order_by_desc(sb, client):
    """order_by_desc sorts descending, sys_id breaking ties."""
    tag = unique("order")
    _users(sb, tag, 4)
    gr = client.GlideRecord("sys_user")
    gr.add_query("user_name", "STARTSWITH", tag)
    gr.order_by_desc("user_name")
    gr.query()
    assert [r.get_value("user_name") for r in gr] == [f"{tag}-{i:02d}" for i in (3, 2, 1, 0)]


def test_update_multiple(sb, client):
    """update_multiple sends one Batch API call of PATCHes, served in order."""
    tag = unique("multi")
    ids = _users(sb, tag, 4)
    gr = client.GlideRecord("sys_user", batch_size=2)
    gr.add_query("user_name", "STARTSWITH", tag)
    gr.query()
    for record in gr:
        record.title = f"t-{record.get_value('user_name')}"
    mark = sb.request_log.mark()
    assert gr.update_multiple()
    for i, sys_id in enumerate(ids):
        assert sb.store.get("sys_user", sys_id)["title"] == f"t-{tag}-{i:02d}"
    (batch,) = [r for r in sb.request_log.since(mark) if r.path == "/api/now/v1/batch"]
    assert (batch.items, batch.writes) == (4, 4)
    assert sb.request_log.writes(since=mark) == 4


def test_update_multiple_with_nothing_changed(sb, client):
    """With no changes pysnc still posts an empty batch, which succeeds."""
    tag = unique("nochange")
    _users(sb, tag, 2)
    gr = client.GlideRecord("sys_user")
    gr.add_query("user_name", "STARTSWITH", tag)
    gr.query()
    mark = sb.request_log.mark()
    assert gr.update_multiple()
    assert sb.request_log.writes(since=mark) == 0


def test_delete_multiple(sb, client):
    """delete_multiple queries sys_ids, then deletes them all in one batch."""
    tag = unique("delmulti")
    _users(sb, tag, 5)
    gr = client.GlideRecord("sys_user", batch_size=2)
    gr.add_query("user_name", "STARTSWITH", tag)
    assert gr.delete_multiple()
    assert sb.store.count("sys_user", f"user_nameSTARTSWITH{tag}") == 0


def test_display_values_and_dot_walk(sb, client):
    """Display values, raw values and dot-walked fields as pysnc reads them."""
    tag = unique("dot")
    company = sb.store.insert("core_company", {"name": f"{tag} Inc"})
    boss = sb.store.insert(
        "sys_user",
        {
            "user_name": f"{tag}-boss",
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": f"{tag}@boss.test",
        },
    )
    worker = sb.store.insert(
        "sys_user", {"user_name": f"{tag}-w", "manager": boss, "company": company}
    )
    gr = client.GlideRecord("sys_user")
    gr.fields = "user_name,manager,manager.email,manager.company.name,company,active"
    assert gr.get(worker)
    assert gr.get_value("manager") == boss
    assert gr.get_display_value("manager") == "Grace Hopper"
    assert gr.get_value("manager.email") == f"{tag}@boss.test"
    assert gr.get_value("manager.company.name") == ""
    assert gr.get_display_value("company") == f"{tag} Inc"
    assert gr.get_value("active") == "true"
    assert "title" not in gr.serialize()

    gr = client.GlideRecord("sys_user")
    gr.display_value = False
    gr.exclude_reference_link = False
    gr.fields = "manager"
    assert gr.get(worker)
    assert gr.manager.get_link().endswith(f"/api/now/table/sys_user/{boss}")


def test_choice_display_value_and_child_class(sb, client):
    """A query on cmdb_ci returns business apps; choices show their labels."""
    name = unique("app")
    app = sb.store.insert("cmdb_ci_business_app", {"name": name, "operational_status": "6"})
    gr = client.GlideRecord("cmdb_ci")
    gr.add_query("name", name)
    gr.query()
    assert gr.next()
    assert gr.sys_id == app
    assert gr.get_value("sys_class_name") == "cmdb_ci_business_app"
    assert gr.get_display_value("sys_class_name") == "Business Application"
    assert gr.get_display_value("operational_status") == "Retired"


def test_long_query_goes_through_the_batch_api(sb, client):
    """A query over 10,000 characters is sent inside a Batch API call and still works."""
    tag = unique("long")
    ids = _users(sb, tag, 3)
    names = [f"{tag}-{i:02d}" for i in range(3)] + [f"nobody-{i:05d}" for i in range(1200)]
    gr = client.GlideRecord("sys_user")
    gr.add_encoded_query("user_nameIN" + ",".join(names))
    mark = sb.request_log.mark()
    gr.query()
    assert sorted(r.sys_id for r in gr) == sorted(ids)
    assert [r.path for r in sb.request_log.since(mark)] == ["/api/now/v1/batch"]


def test_insert_error_surfaces_as_request_exception(client):
    """A 400 on insert (bad sys_id) raises pysnc's RequestException with the JSON error."""
    gr = client.GlideRecord("sys_user")
    gr.initialize()
    gr.set_value("sys_id", "z" * 40)  # longer than a sys_id can be
    with pytest.raises(RequestException):
        gr.insert()


def test_unknown_table_is_an_error(client):
    """Querying a table that does not exist raises, as on a real instance."""
    gr = client.GlideRecord("u_no_such_table")
    with pytest.raises(RequestException, match="Invalid table"):
        gr.query()


def test_pysnc_is_unmodified():
    """The suite runs against the pinned, unpatched pysnc."""
    assert pysnc.__version__ == "1.2.1"
    assert pysnc.ServiceNowClient.__module__ == "pysnc.client"


def test_versioned_paths_work_with_a_path_prefixed_client(sb):
    """Clients built from the same sandbox are independent (a second client, same data)."""
    tag = unique("second")
    _users(sb, tag, 1)
    other = make_client(sb)
    gr = other.GlideRecord("sys_user")
    gr.add_query("user_name", f"{tag}-00")
    gr.query()
    assert len(gr) == 1
