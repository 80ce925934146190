"""A sandbox started with a size: sys_user rows in ServiceNow, state kept, and the CLI."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import msal
import requests

from cisync_lib import SnUser
from cisync_lib.sandbox import Sandbox, SandboxConfig

CISYNC = shutil.which("cisync") or str(Path(sys.executable).parent / "cisync")


def test_sys_users_are_loaded_into_servicenow(cisync_sandbox_factory):
    """Every generated sys_user row is in the store and served by the Table API, exactly."""
    sb = cisync_sandbox_factory(SandboxConfig(size="tiny", seed=4))
    fields = (*SnUser.FIELDS, "first_name", "last_name", "employee_number")
    extra = ("first_name", "last_name", "employee_number")
    stored = [SnUser.from_row(r, extra) for r in sb.store.query("sys_user", "ORDERBYsys_id")]
    want = sorted(sb.tenant.sys_users, key=lambda u: u.sys_id)
    assert [_plain(u) for u in stored] == [_plain(u) for u in want]
    with requests.Session() as s:
        s.trust_env = False
        s.verify = str(sb.ca_file)
        s.auth = (sb.servicenow_username, sb.servicenow_password)
        response = s.get(
            f"{sb.servicenow_url}/api/now/table/sys_user",
            params={"sysparm_fields": ",".join(fields), "sysparm_query": "ORDERBYsys_id"},
        )
    served = [SnUser.from_row(r, extra) for r in response.json()["result"]]
    assert [_plain(u) for u in served] == [_plain(u) for u in want]


def _plain(user):
    """Generated users keep extra fields that a service account row leaves empty."""
    return (user.sys_id, user.user_name, user.email, user.active, user.name,
            user.web_service_access_only, user.internal_integration_user,
            {k: v for k, v in user.extra.items() if v})  # fmt: skip


def test_state_folder_keeps_users_and_credentials(tmp_path):
    """A second start on the same state folder neither duplicates rows nor changes credentials."""
    config = SandboxConfig(size="tiny", state_dir=tmp_path)
    with Sandbox(config) as first:
        rows = first.store.count("sys_user")
        secret, token = first.client_secret, first.mdca_token
        thumbprint = first.client_certificate.thumbprint
    with Sandbox(config) as second:
        assert second.store.count("sys_user") == rows == len(second.tenant.sys_users)
        assert (second.client_secret, second.mdca_token) == (secret, token)
        assert second.client_certificate.thumbprint == thumbprint
        assert second.client_certificate.pfx_path.parent.parent == tmp_path


def test_cli_serve_prints_the_defender_keys(tmp_path):
    """`cisync sandbox serve --size tiny --json` prints a line msal and requests can use."""
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    process = subprocess.Popen(
        [CISYNC, "sandbox", "serve", "--json", "--size", "tiny", "--seed", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        info = json.loads(process.stdout.readline())
        for key in ("authority", "tenant_id", "client_id", "client_secret", "graph_url",
                    "mdca_url", "mdca_token", "servicenow_url", "ca_file"):  # fmt: skip
            assert info[key], key
        with requests.Session() as s:
            s.trust_env = False
            s.verify = info["ca_file"]
            app = msal.ConfidentialClientApplication(
                info["client_id"], client_credential=info["client_secret"],
                authority=info["authority"], instance_discovery=False, http_client=s,
            )  # fmt: skip
            token = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
            streams = s.get(
                info["graph_url"]
                + "/beta/security/dataDiscovery/cloudAppDiscovery/uploadedStreams",
                headers={"Authorization": f"Bearer {token['access_token']}"},
            ).json()["value"]
            legacy = s.get(info["mdca_url"] + "/discovery/streams/",
                           headers={"Authorization": f"Token {info['mdca_token']}"}).json()  # fmt: skip
        assert [x["id"] for x in streams] == [x["_id"] for x in legacy["streams"]]
        assert len(streams) == 5
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stdout.close()
        process.stderr.close()
