"""A whole run at DEBUG for every logger: no secret, token or assertion anywhere we emit text."""

import logging
import re

import attrs
import pytest

from cisync_lib import CisyncError
from cisync_lib.defender import ClientSecret, GraphSource, LegacySource, save_snapshot
from cisync_lib.defender._auth import TokenProvider
from cisync_lib.sandbox import FaultRule

from .conftest import graph_connection, legacy_connection

JWT = re.compile(r"eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.")


def test_no_secret_token_or_assertion_in_logs_errors_or_snapshot(sb, caplog, tmp_path):
    """Reads with a secret, a PEM key, a PFX file, a legacy token; failures too."""
    caplog.set_level(logging.DEBUG)  # the root logger: msal, urllib3 and ours
    texts, tokens = [], []
    for kind in ("secret", "pem", "pfx"):
        conn = graph_connection(sb, kind)
        with GraphSource(conn) as source:
            data = source.read(include_app_info=kind == "secret")
            texts += [repr(conn), repr(source.connection)]
        tokens.append(TokenProvider(conn).token())  # the cached token the read used
    legacy = legacy_connection(sb)
    with LegacySource(legacy) as source:
        source.read(include_users=False)
    texts.append(repr(legacy))

    failures = [
        (attrs.evolve(graph_connection(sb), credential=ClientSecret(secret="x" * 40)), None),
        (graph_connection(sb), FaultRule(service="graph", status=500, after=2)),
        (
            graph_connection(sb, retries=1, backoff_factor=0.01, backoff_jitter=0.01),
            FaultRule(service="graph", kind="malformed", after=2),
        ),
        (graph_connection(sb), FaultRule(service="graph", status=401)),
    ]
    for conn, rule in failures:
        sb.faults.clear()
        if rule is not None:
            sb.faults.add(rule)
        with GraphSource(conn) as source, pytest.raises(CisyncError) as info:
            source.read()
        texts += [str(info.value), repr(info.value)]
    sb.faults.clear()

    path = tmp_path / "snapshot.json"
    save_snapshot(data, path)
    texts.append(path.read_text("utf-8"))
    texts.append(caplog.text)
    texts += [r.getMessage() for r in caplog.records]
    haystack = "\n".join(texts)

    cert = sb.client_certificate
    key_lines = [line for line in cert.private_key_pem.splitlines() if "-----" not in line]
    secrets = [sb.client_secret, cert.pfx_passphrase, sb.mdca_token, *tokens, *key_lines[1:4]]
    assert len(caplog.records) > 100  # the capture really covered the run
    assert any("request-id" in r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret not in haystack
    assert JWT.search(haystack) is None  # no access token, no signed client assertion
