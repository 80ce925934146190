"""Connection-level failures are described in words, never as a bare exception class."""

from __future__ import annotations

import pytest
import requests

from cisync_lib.servicenow._http import network_detail


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (requests.ConnectTimeout("timed out"), "no answer from h:443 in time (timeout)"),
        (requests.ConnectionError("NameResolutionError: Name or service not known"),
         "the host name h:443 does not resolve"),
        (requests.ConnectionError("[Errno 111] Connection refused"),
         "h:443 refused the connection; check instance_url"),
        (requests.ConnectionError("RemoteDisconnected"), "network failure talking to h:443"),
    ],
)  # fmt: skip
def test_network_failures_say_what_happened(exc, expected):
    text = network_detail(exc, "h:443")
    assert text.startswith(expected)
    assert text != type(exc).__name__
