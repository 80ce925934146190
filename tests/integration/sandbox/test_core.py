"""The sandbox core over real HTTPS: TLS, keep-alive, mounting a service, faults and the log."""

import http.client
import json
import ssl

import pytest
import requests

from cisync_lib.sandbox import INFO_KEY, FaultRule, Sandbox, SandboxConfig


class Echo:
    """A trivial service: answers the length of the request body and reports one write."""

    name = "echo"

    def wsgi_app(self):
        def app(environ, start_response):
            body = environ["wsgi.input"].read()
            environ[INFO_KEY].writes = 1
            out = json.dumps({"len": len(body), "path": environ["PATH_INFO"]}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [out]

        return app

    def error_body(self, status, message):
        return json.dumps({"error": message}).encode(), "application/json"

    def connection_info(self, url):
        return {"echo_url": url}

    def close(self):
        pass


@pytest.fixture(scope="module")
def echo():
    with Sandbox(SandboxConfig(services=())) as sb:
        url = sb.mount(Echo())
        yield sb, url


@pytest.fixture
def session(echo):
    sb, _ = echo
    sb.faults.clear()
    sb.request_log.clear()
    s = requests.Session()
    s.trust_env = False
    s.verify = str(sb.ca_file)
    yield s
    s.close()


def test_https_only_with_the_sandbox_ca(echo, session):
    """The service answers over TLS with a certificate the sandbox CA vouches for."""
    sb, url = echo
    assert url.startswith("https://127.0.0.1:")
    assert session.post(url + "/a%20b", data=b"xyz").json() == {"len": 3, "path": "/a b"}
    untrusting = requests.Session()
    untrusting.trust_env = False
    untrusting.verify = True
    with untrusting, pytest.raises(requests.exceptions.SSLError):
        untrusting.get(url)
    assert sb.connection_info() == {"ca_file": str(sb.ca_file), "echo_url": url}


def test_keep_alive_serves_several_requests_on_one_connection(echo):
    """HTTP/1.1 keep-alive: one TLS connection carries several requests."""
    sb, url = echo
    port = int(url.rsplit(":", 1)[1])
    conn = http.client.HTTPSConnection(
        "127.0.0.1", port, context=ssl.create_default_context(cafile=str(sb.ca_file))
    )
    for i in range(3):
        conn.request("POST", "/k", body=b"x" * i)
        response = conn.getresponse()
        assert json.loads(response.read()) == {"len": i, "path": "/k"}
        assert response.getheader("Connection") != "close"
    assert conn.sock is not None
    conn.close()


def test_request_log_records_each_call(echo, session):
    """Every request is logged with method, path, status, sizes and the writes it reported."""
    sb, url = echo
    mark = sb.request_log.mark()
    session.post(url + "/w?x=1", data=b"12345")
    (record,) = sb.request_log.since(mark)
    assert (record.service, record.method, record.path, record.query) == (
        "echo",
        "POST",
        "/w",
        "x=1",
    )
    assert (record.status, record.request_bytes, record.writes) == (200, 5, 1)
    assert record.response_bytes == len(b'{"len": 5, "path": "/w"}')
    assert sb.request_log.writes("echo") == 1


def test_status_fault_with_retry_after(echo, session):
    """A status fault answers the service's error body and Retry-After without serving."""
    sb, url = echo
    sb.faults.add(FaultRule(service="echo", kind="status", status=429, retry_after=2, times=1))
    first = session.get(url + "/r")
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "2"
    assert first.json() == {"error": "Injected fault: HTTP 429"}
    assert session.get(url + "/r").status_code == 200
    assert [r.fault for r in sb.request_log.entries] == ["status", None]


def test_drop_cuts_the_response(echo, session):
    """A dropped connection breaks the response body half-way."""
    sb, url = echo
    sb.faults.add(FaultRule(kind="drop", times=1))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        session.get(url + "/d")
    assert session.get(url + "/d").status_code == 200


def test_slow_response_exceeds_the_client_timeout(echo, session):
    """A slow response makes a client with a short read timeout give up."""
    sb, url = echo
    sb.faults.add(FaultRule(kind="slow", delay=1.0, times=1))
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(url + "/s", timeout=(5, 0.2))


def test_malformed_body(echo, session):
    """A malformed fault sends invalid JSON with a 200."""
    sb, url = echo
    sb.faults.add(FaultRule(kind="malformed", times=1))
    response = session.get(url + "/m")
    assert response.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
