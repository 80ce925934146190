"""The preflight's checklist items, the token-role check and the folder check (no network)."""

from __future__ import annotations

from cisync_lib import DefenderAuthError
from cisync_lib.sync._diagnose import Endpoint
from cisync_lib.sync._preflight import (
    GRAPH_ROLE,
    CheckItem,
    CheckReport,
    entra_token,
    folder_check,
)

ENTRA = Endpoint(
    service="Entra ID",
    url="https://login.microsoftonline.com",
    url_key="connections.contoso.authority_host",
    ca_key="connections.contoso.ca_bundle",
    secret="CISYNC_CONTOSO_CLIENT_SECRET",
    identity="app 1111 (tenant 0000)",
)


class FakeSource:
    """Stands in for a Defender source: only ``token_claims`` is called."""

    def __init__(self, claims=None, error=None):
        self.claims, self.error = claims, error

    def token_claims(self):
        if self.error is not None:
            raise self.error
        return self.claims


def test_the_token_must_carry_the_graph_application_permission():
    ok = entra_token(ENTRA, FakeSource({"roles": [GRAPH_ROLE]}), GRAPH_ROLE)
    assert ok.ok is True
    missing = entra_token(ENTRA, FakeSource({"roles": ["User.Read.All"]}), GRAPH_ROLE)
    assert missing.ok is False
    assert missing.detail == (
        "the token lacks the application permission CloudApp-Discovery.Read.All "
        "(roles: User.Read.All)"
    )
    assert "App registrations > 1111 > API permissions" in missing.fix
    assert "grant admin consent" in missing.fix
    none = entra_token(ENTRA, FakeSource({}), GRAPH_ROLE)
    assert "(roles: none)" in none.detail


def test_a_refused_credential_names_the_secret():
    refused = DefenderAuthError(error="invalid_client", error_description="AADSTS7000215: bad.")
    item = entra_token(ENTRA, FakeSource(error=refused), GRAPH_ROLE)
    assert item.ok is False
    assert item.cause == "401"
    assert item.fix == "set the right secret in CISYNC_CONTOSO_CLIENT_SECRET"


def test_items_render_as_one_line_and_the_report_passes_only_when_all_ran_and_passed():
    good = CheckItem(name="a", ok=True, detail="fine")
    bad = CheckItem(name="b", ok=False, detail="broken", fix="mend it")
    skipped = CheckItem(name="c", ok=None, detail="not checked")
    assert good.line() == "ok    a: fine"
    assert bad.line() == "FAIL  b: broken. Fix: mend it"
    assert skipped.line() == "skip  c: not checked"
    assert CheckReport(target="t", items=(good,)).ok is True
    assert CheckReport(target="t", items=(good, skipped)).ok is False
    document = CheckReport(target="t", items=(good, bad)).to_dict()
    assert document["ok"] is False
    assert document["checks"][1] == {"name": "b", "ok": False, "detail": "broken", "fix": "mend it"}


def test_a_folder_that_does_not_exist_yet_is_judged_by_its_parent(tmp_path):
    assert folder_check("state", tmp_path / "not" / "yet").ok is True
    assert not (tmp_path / "not").exists()  # the check creates nothing
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    under_a_file = folder_check("state", blocker / "state")
    assert under_a_file.ok is False
    assert "sync.state_dir" in under_a_file.fix
