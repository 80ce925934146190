"""The Attachment API, as pysnc's attachment tests use it, checked against the store.

Endpoints and shapes follow ServiceNow's Attachment API reference
(``POST /api/now/attachment/file``, ``/upload``, ``GET /api/now/attachment``,
``GET|DELETE /api/now/attachment/{sys_id}``, ``GET .../{sys_id}/file``);
pysnc's ``add_attachment`` returns the ``Location`` header, which its own
``get_link()`` expects to be ``{instance}/api/now/v1/attachment/{sys_id}/file``.
"""

import pytest

from .conftest import make_client, make_session, unique

BINARY = bytes(range(256)) * 3


@pytest.fixture
def user(sb):
    return sb.store.insert("sys_user", {"user_name": unique("att")})


def _url(sb, path):
    return f"{sb.servicenow_url}/api/now/{path}"


def test_pysnc_add_list_read_delete(sb, client, user):
    gr = client.GlideRecord("sys_user")
    assert gr.get(user)
    assert len(gr.get_attachments()) == 0
    location = gr.add_attachment("notes.txt", "line one\nline two", content_type="text/plain")
    gr.add_attachment("blob.bin", BINARY)

    rows = sb.store.query("sys_attachment", f"table_sys_id={user}^ORDERBYfile_name")
    assert [(r["file_name"], r["size_bytes"], r["table_name"]) for r in rows] == [
        ("blob.bin", str(len(BINARY)), "sys_user"),
        ("notes.txt", "17", "sys_user"),
    ]
    text_id = rows[1]["sys_id"]
    assert location == f"{sb.servicenow_url}/api/now/v1/attachment/{text_id}/file"
    assert rows[1]["content_type"] == "text/plain"

    attachments = gr.get_attachments()
    assert len(attachments) == 2
    contents = {a.file_name: a.read() for a in attachments}
    assert contents == {"notes.txt": b"line one\nline two", "blob.bin": BINARY}

    one = client.Attachment("sys_user")
    assert one.get(text_id)
    one.delete()
    assert sb.store.get("sys_attachment", text_id) is None
    assert sb.store.count("sys_attachment_doc", f"sys_attachment={text_id}") == 0
    assert sb.store.count("sys_attachment", f"table_sys_id={user}") == 1


def test_metadata_has_a_download_link(sb, api, user):
    created = api.post(
        _url(sb, "attachment/file"),
        params={"table_name": "sys_user", "table_sys_id": user, "file_name": "a.csv"},
        data=b"a,b\n1,2\n",
        headers={"Content-Type": "text/csv"},
        timeout=30,
    )
    assert created.status_code == 201
    sys_id = created.json()["result"]["sys_id"]
    link = f"{sb.servicenow_url}/api/now/attachment/{sys_id}/file"
    assert created.json()["result"]["download_link"] == link
    listed = api.get(
        _url(sb, "attachment"), params={"sysparm_query": f"table_sys_id={user}"}, timeout=30
    )
    assert listed.headers["X-Total-Count"] == "1"
    assert listed.json()["result"][0]["download_link"] == link
    single = api.get(_url(sb, f"attachment/{sys_id}"), timeout=30)
    assert single.json()["result"]["file_name"] == "a.csv"
    content = api.get(link, timeout=30)
    assert (content.content, content.headers["Content-Type"]) == (b"a,b\n1,2\n", "text/csv")


def test_multipart_upload(sb, api, user):
    response = api.post(
        _url(sb, "attachment/upload"),
        data={"table_name": "sys_user", "table_sys_id": user},
        files={"uploadFile": ("photo.png", BINARY, "image/png")},
        timeout=30,
    )
    assert response.status_code == 201
    (row,) = sb.store.query("sys_attachment", f"table_sys_id={user}")
    assert (row["file_name"], row["content_type"]) == ("photo.png", "image/png")
    assert api.get(_url(sb, f"attachment/{row['sys_id']}/file"), timeout=30).content == BINARY


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"table_name": "no_such_table", "table_sys_id": "0" * 32, "file_name": "x"}, 400),
        ({"table_name": "sys_user", "table_sys_id": "0" * 32, "file_name": "x"}, 400),
        ({"table_name": "sys_user", "file_name": "x"}, 400),
    ],
)
def test_bad_uploads_are_refused(sb, api, params, status):
    before = sb.store.count("sys_attachment")
    response = api.post(_url(sb, "attachment/file"), params=params, data=b"x", timeout=30)
    assert response.status_code == status
    assert sb.store.count("sys_attachment") == before


def test_missing_attachment_is_404(sb, api):
    assert api.get(_url(sb, f"attachment/{'0' * 32}"), timeout=30).status_code == 404
    assert api.get(_url(sb, f"attachment/{'0' * 32}/file"), timeout=30).status_code == 404


def test_read_only_user_cannot_upload(sb, user):
    session = make_session(sb, sb.readonly_username, sb.readonly_password)
    response = session.post(
        _url(sb, "attachment/file"),
        params={"table_name": "sys_user", "table_sys_id": user, "file_name": "x"},
        data=b"x",
        timeout=30,
    )
    session.close()
    assert response.status_code == 403
    assert sb.store.count("sys_attachment", f"table_sys_id={user}") == 0


def test_a_bodiless_insert_creates_a_record_of_defaults(sb):
    """pysnc inserts a record initialised without values with no request body at all."""
    client = make_client(sb)
    gr = client.GlideRecord("core_company")
    gr.initialize()
    sys_id = str(gr.insert())
    client.session.close()
    row = sb.store.get("core_company", sys_id)
    assert (row["name"], row["vendor"]) == ("", "false")
