"""Classifying network and auth failures, and the one-line messages built from them."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from cisync_lib import (
    DefenderAuthError,
    DefenderHttpError,
    PreflightError,
    ServiceNowAuthError,
    ServiceNowRequestError,
)
from cisync_lib.sync._diagnose import Cause, Endpoint, classify, failure, from_error

SN = Endpoint(
    service="ServiceNow",
    url="https://contoso.service-now.com",
    url_key="destinations.test.instance_url",
    ca_key="destinations.test.ca_bundle",
    secret="CISYNC_TEST_PASSWORD",
    identity="user cisync.integration",
    config="cisync.toml",
)
GRAPH = Endpoint(
    service="Microsoft Graph",
    url="https://graph.microsoft.com",
    url_key="connections.contoso.graph_url",
    ca_key="connections.contoso.ca_bundle",
    verify="/etc/pki/corp.pem",
    config="cisync.toml",
)


def _wrapped(inner: BaseException) -> ServiceNowRequestError:
    """What the connection raises: our error, from requests', from urllib3's, from the socket's."""
    retry = MaxRetryError(None, "/api/now/table/sys_user", reason=inner)
    outer = requests.ConnectionError(retry)
    try:
        try:
            raise outer from retry
        except requests.ConnectionError as exc:
            raise ServiceNowRequestError(
                operation="query", table="sys_user", detail="ConnectionError"
            ) from exc
    except ServiceNowRequestError as error:
        return error


def test_causes_are_found_through_the_chain():
    refused = NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    assert classify(_wrapped(refused))[0] is Cause.REFUSED
    dns = NameResolutionError(
        "nohost.invalid", None, socket.gaierror(-2, "Name or service not known")
    )
    assert classify(_wrapped(dns))[0] is Cause.DNS
    assert classify(_wrapped(ConnectionRefusedError(111, "refused")))[0] is Cause.REFUSED
    assert classify(_wrapped(TimeoutError("timed out")))[0] is Cause.TIMEOUT
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    verify.verify_message = "unable to get local issuer certificate"
    assert classify(_wrapped(verify)) == (Cause.TLS, "unable to get local issuer certificate")


def test_text_only_causes_are_read_from_the_message():
    # the Defender client keeps only the transport's text in its error
    error = DefenderHttpError(
        request="GET https://graph.microsoft.com/beta/x",
        detail="no response after 6 retries (NewConnectionError: ...: [Errno 111] Connection refused)",
    )
    assert classify(error)[0] is Cause.REFUSED
    tls = DefenderHttpError(
        request="GET https://graph.microsoft.com/beta/x",
        detail="SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed "
        "certificate in certificate chain (_ssl.c:1006)",
    )
    assert classify(tls) == (Cause.TLS, "self-signed certificate in certificate chain")


def test_auth_statuses_and_the_first_sentence_of_entra():
    assert (
        classify(ServiceNowAuthError(instance="x", status=401, detail="User Not Authenticated"))[0]
        is Cause.UNAUTHORIZED
    )
    assert classify(ServiceNowAuthError(instance="x", status=403))[0] is Cause.FORBIDDEN
    entra = DefenderAuthError(
        error="invalid_client",
        error_description="AADSTS7000215: Invalid client secret provided. Ensure the secret "
        "being sent... Trace ID: abc Correlation ID: def",
    )
    assert classify(entra) == (
        Cause.UNAUTHORIZED,
        "invalid_client: AADSTS7000215: Invalid client secret provided.",
    )
    assert classify(ValueError("something else")) is None


@pytest.mark.parametrize(
    ("cause", "problem", "fix"),
    [
        (Cause.DNS, "the host name does not resolve", "check destinations.test.instance_url"),
        (Cause.REFUSED, "the connection was refused", "check destinations.test.instance_url"),
        (Cause.TIMEOUT, "no answer in time", "check destinations.test.instance_url"),
        (Cause.TLS, "TLS certificate verify failed", "set destinations.test.ca_bundle"),
        (Cause.UNAUTHORIZED, "user cisync.integration were refused (HTTP 401)",
         "set the right secret in CISYNC_TEST_PASSWORD"),
        (Cause.FORBIDDEN, "user cisync.integration is not allowed (HTTP 403)", "grant the roles"),
    ],
)  # fmt: skip
def test_each_cause_names_service_host_problem_and_key(cause, problem, fix):
    error = failure(SN, cause)
    text = str(error)
    assert text.startswith("ServiceNow contoso.service-now.com:443: ")
    assert problem in text
    assert f"Fix: {fix}" in text
    assert "\n" not in text
    assert "sandbox" not in text  # only a sandbox config is told to refresh itself


def test_a_run_failure_is_restated_for_the_endpoint_that_failed():
    error = DefenderHttpError(
        request="GET https://graph.microsoft.com/beta/security/x",
        detail="SSLError: certificate verify failed: unable to get local issuer certificate (x)",
    )
    better = from_error(error, {"ServiceNow": SN, "Microsoft Graph": GRAPH})
    assert isinstance(better, PreflightError)
    assert str(better).startswith("Microsoft Graph graph.microsoft.com:443: TLS certificate verify")
    assert "not trusted with CA /etc/pki/corp.pem" in str(better)
    assert "Fix: set connections.contoso.ca_bundle" in str(better)
    assert from_error(ValueError("x"), {"ServiceNow": SN}) is None


def test_a_proxy_failure_points_at_the_proxies_key():
    proxy = requests.exceptions.ProxyError("Unable to connect to proxy")
    assert classify(proxy)[0] is Cause.PROXY
    text = str(failure(SN, Cause.PROXY, "refused"))
    assert "through the configured proxy failed" in text
    assert "Fix: check destinations.test.proxies in cisync.toml" in text
