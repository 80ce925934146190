"""The Graph adapter's paging and page checks, with a scripted client (no HTTP)."""

import pytest

from cisync_lib import DefenderPayloadError, DiscoveryStream
from cisync_lib.defender._graph import _GraphApi

ROOT = "https://graph.example"
STREAM = DiscoveryStream(id="s1", display_name="FW")
BOX = {"id": "1", "displayName": "Box", "riskScore": 9, "userCount": 2}


class Scripted:
    """Answers fetch_json with the next scripted page and records the URLs asked."""

    def __init__(self, *pages):
        self.pages = list(pages)
        self.urls = []

    def fetch_json(self, method, url, where, *, params=None, body=None):
        self.urls.append(url)
        return self.pages.pop(0)


def test_next_links_are_followed_verbatim_to_the_end():
    """Every page is read, by the link exactly as the server wrote it."""
    link = ROOT + "/beta/next?$skiptoken=a%2Fb"
    client = Scripted(
        {"value": [BOX], "@odata.nextLink": link},
        {"value": [{**BOX, "id": "2", "userCount": 0}]},
    )
    apps = _GraphApi(client, ROOT).list_apps(STREAM, "P30D", 10)
    assert [a.id for a in apps] == ["1", "2"]
    assert client.urls[1] == link


@pytest.mark.parametrize(
    "link",
    ["https://evil.example/beta/next", "http://graph.example/beta/next", 42],
)
def test_a_next_link_to_another_place_is_refused(link):
    """The bearer token never follows a link to another host or over plain HTTP."""
    client = Scripted({"value": [BOX], "@odata.nextLink": link})
    with pytest.raises(DefenderPayloadError, match=r"@ \$\['@odata.nextLink'\]"):
        _GraphApi(client, ROOT).list_apps(STREAM, "P30D", 10)
    assert len(client.urls) == 1


def test_an_app_without_user_count_is_a_payload_error():
    """Without userCount the users call would be skipped as for an IP-only app: refused."""
    item = {k: v for k, v in BOX.items() if k != "userCount"}
    client = Scripted({"value": [BOX, item]})
    with pytest.raises(
        DefenderPayloadError, match=r"required key missing @ \$\.value\[1\]\.userCount"
    ):
        _GraphApi(client, ROOT).list_apps(STREAM, "P30D", 10)
