"""The legacy adapter's paging and its experimental users call, with a scripted client (no HTTP)."""

import pytest

from cisync_lib import DefenderPayloadError, DiscoveredApp, DiscoveryStream
from cisync_lib.defender._legacy import USERS_PATH, _LegacyApi

STREAM = DiscoveryStream(id="s1", display_name="FW", anonymize_users=True)
APP = DiscoveredApp(id="20893", name="Dropbox", risk_score=9, user_count=3)


class Scripted:
    """Answers fetch_json with the next scripted page and records what was asked."""

    def __init__(self, *pages):
        self.pages = list(pages)
        self.asked = []

    def fetch_json(self, method, url, where, *, params=None, body=None):
        self.asked.append((method, url, where, body))
        return self.pages.pop(0)


def test_experimental_users_page_by_skip_and_keep_the_streams_flag():
    """The undocumented app_users call: body as the MCAS module sent it, rows to AppUsers."""
    client = Scripted(
        {"data": [{"username": "a@x"}, {"username": "CONTOSO\\b"}], "total": 3, "hasNext": True},
        {"data": [{"userName": "c@x"}], "total": 3, "hasNext": False},
    )
    users = _LegacyApi(client, "https://t/api").list_users(STREAM, APP, "P30D")
    assert [u.identifier for u in users] == ["a@x", "CONTOSO\\b", "c@x"]
    assert all(u.anonymized and u.app_id == "20893" and u.stream_id == "s1" for u in users)
    (m1, url, where1, body1), (_, _, where2, body2) = client.asked
    assert (m1, url) == ("POST", "https://t/api" + USERS_PATH)
    assert body1 == {
        "appId": "20893",
        "streamId": "s1",
        "timeframe": 30,
        "sortField": "lastSeen",
        "sortDirection": "desc",
        "performAsyncTotal": False,
        "skip": 0,
        "limit": 100,
    }
    assert (body2["skip"], where1.page, where2.page) == (2, 1, 2)


def test_a_row_without_a_name_names_its_json_path():
    """An unknown row shape is a payload error, not a silently missing user."""
    client = Scripted({"data": [{"username": "a"}, {"lastSeen": 1}], "total": 2, "hasNext": False})
    with pytest.raises(DefenderPayloadError, match=r"@ \$\.data\[1\]"):
        _LegacyApi(client, "https://t/api").list_users(STREAM, APP, "P7D")


def test_paging_that_ends_short_of_the_total_is_an_error():
    """hasNext false before total items were seen: partial data is refused."""
    client = Scripted(
        {"data": [{"appId": 1, "name": "A", "score": 5}], "total": 2, "hasNext": False}
    )
    with pytest.raises(DefenderPayloadError, match=r"1 of 2 items @ \$\.total"):
        _LegacyApi(client, "https://t/api").list_apps(STREAM, "P90D", 10)


def test_an_empty_page_that_promises_more_is_an_error():
    """hasNext true with no items: neither a silent stop nor an endless loop."""
    client = Scripted(
        {"data": [{"appId": 1, "name": "A", "score": 5}], "hasNext": True},
        {"data": [], "hasNext": True},
    )
    with pytest.raises(DefenderPayloadError, match=r"empty page while hasNext is true"):
        _LegacyApi(client, "https://t/api").list_apps(STREAM, "P90D", 10)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ({"total": 1, "hasNext": False}, r"data list @ \$\.data"),
        ({"data": [], "total": 0}, r"true or false @ \$\.hasNext"),
        ({"data": [{}] * 101, "hasNext": False}, "more than the limit"),
    ],
)
def test_malformed_legacy_pages(page, expected):
    """Each shape problem names the JSON path."""
    with pytest.raises(DefenderPayloadError, match=expected):
        _LegacyApi(Scripted(page), "https://t/api").list_apps(STREAM, "P30D", 10)


def test_risk_filter_goes_into_the_body():
    """max_risk_score below 10 becomes {"score": {"lte": N}}."""
    client = Scripted({"data": [], "total": 0, "hasNext": False})
    _LegacyApi(client, "https://t/api").list_apps(STREAM, "P7D", 4)
    assert client.asked[0][3]["filters"] == {"score": {"lte": 4}}
    assert client.asked[0][3]["timeframe"] == 7


def test_with_experimental_users_an_app_without_users_count_is_an_error():
    """usersCount decides whether an app's users are read: missing, it would read as 0."""
    page = {"data": [{"appId": 1, "name": "A", "score": 5}], "total": 1, "hasNext": False}
    api = _LegacyApi(Scripted(page), "https://t/api", require_user_count=True)
    with pytest.raises(
        DefenderPayloadError, match=r"required key missing @ \$\.data\[0\]\.usersCount"
    ):
        api.list_apps(STREAM, "P30D", 10)
    # without users to read, the count does not matter
    (app,) = _LegacyApi(Scripted(page), "https://t/api").list_apps(STREAM, "P30D", 10)
    assert app.user_count == 0
