"""Token reuse: one msal app per tenant and client, and the optional persistent cache."""

import json
import os
import stat

import attrs

from cisync_lib.defender import GraphSource, reset_token_providers

from .conftest import graph_connection


def test_two_sources_share_one_token(sb):
    """A second source for the same tenant and client reuses the cached token."""
    mark = sb.request_log.mark()
    for _ in range(2):
        with GraphSource(graph_connection(sb)) as source:
            source.read(include_users=False, include_devices=False)
    assert sb.request_log.round_trips(service="entra", method="POST", since=mark) == 1


def test_persistent_cache_survives_the_process_state(sb, tmp_path):
    """With token_cache_path, a fresh msal app (as in a new process) needs no new token."""
    path = tmp_path / "msal-cache.json"
    conn = attrs.evolve(graph_connection(sb), token_cache_path=str(path))
    mark = sb.request_log.mark()
    with GraphSource(conn) as source:
        source.read(include_users=False, include_devices=False)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["AccessToken"]
    reset_token_providers()  # forget the in-memory app, as a new process would
    with GraphSource(conn) as source:
        data = source.read(include_users=False, include_devices=False)
    assert data.complete
    assert sb.request_log.round_trips(service="entra", method="POST", since=mark) == 1
    assert os.listdir(tmp_path) == ["msal-cache.json"]
