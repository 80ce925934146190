"""Shared clients for the Defender sandbox over real HTTPS: requests sessions and msal."""

import msal
import pytest
import requests

BASE = "/beta/security/dataDiscovery/cloudAppDiscovery"


def make_session(sb):
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sb.ca_file)
    return session


def msal_app(sb, credential, session=None):
    """An unmodified msal client against the sandbox authority (fresh cache each time)."""
    return msal.ConfidentialClientApplication(
        sb.client_id,
        client_credential=credential,
        authority=sb.authority,
        instance_discovery=False,
        http_client=session or make_session(sb),
        http_cache={},
    )


def graph_token(sb):
    result = msal_app(sb, sb.client_secret).acquire_token_for_client([sb.graph_scope])
    return result["access_token"]


class GraphClient:
    """Plain requests against the sandbox's Graph, following @odata.nextLink to the end."""

    def __init__(self, sb, session=None):
        self.sb = sb
        self.session = session or make_session(sb)
        self.session.headers["Authorization"] = f"Bearer {graph_token(sb)}"
        self.pages = 0

    def get(self, path, **params):
        response = self.session.get(self.sb.graph_url + BASE + path, params=params, timeout=30)
        assert response.status_code == 200, response.text
        assert response.headers["request-id"]
        return response.json()

    def all(self, path, **params):
        page = self.get(path, **params)
        items = list(page["value"])
        self.pages += 1
        while "@odata.nextLink" in page:
            response = self.session.get(page["@odata.nextLink"], timeout=30)
            assert response.status_code == 200, response.text
            page = response.json()
            items.extend(page["value"])
            self.pages += 1
        return items


@pytest.fixture
def graph_client_factory():
    return GraphClient
