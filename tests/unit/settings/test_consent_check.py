"""A run's consent check: hand-edited settings never bypass consent (issue 11, item 7).

Cases written by hand from the documented rule: a setting that needs consent and is
not at its default must be in the state the newest consent-log entry of its
environment left it in.
"""

from __future__ import annotations

import pytest
import tomlkit

from cisync_lib import ConsentMissingError, ConsentRequiredError
from cisync_lib.settings import Consent, load_settings, missing_consent, require_consent

CONSENT = Consent.now("alice@contoso.com")

HEAD = '[connections.contoso]\nkind = "graph"\n'


def _file(tmp_path, text=HEAD):
    path = tmp_path / "cisync.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def _hand_edit(tmp_path, env, enabled=True, value=True):
    """Tick the box in the TOML file the way a person would, with no consent entry."""
    path = tmp_path / "cisync.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    conn = document["connections"]["contoso"]
    conn.setdefault("settings", tomlkit.table())
    conn["settings"].setdefault(env, tomlkit.table())
    conn["settings"][env]["allow_user_sync"] = {"override": enabled, "value": value}
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return load_settings(path)


def test_defaults_need_no_consent(tmp_path):
    assert missing_consent(_file(tmp_path), "contoso", "test") == ()
    assert missing_consent(_file(tmp_path), "unknown-connection", "prod") == ()


def test_a_hand_edited_allow_user_sync_is_refused(tmp_path):
    _file(tmp_path)
    file = _hand_edit(tmp_path, "test")
    assert missing_consent(file, "contoso", "test") == ("allow_user_sync",)
    assert missing_consent(file, "contoso", "prod") == ()
    with pytest.raises(ConsentMissingError) as info:
        require_consent(file, "contoso", "test")
    assert isinstance(info.value, ConsentRequiredError)  # exit code 3 like every consent refusal
    message = str(info.value)
    assert "allow_user_sync" in message
    assert "cisync settings set allow_user_sync true --env test --i-consent" in message
    assert str(file.path) in message


def test_an_unticked_override_is_the_default_and_needs_nothing(tmp_path):
    _file(tmp_path)
    file = _hand_edit(tmp_path, "test", enabled=False)
    assert missing_consent(file, "contoso", "test") == ()


def test_a_saved_change_records_consent_for_its_environment_only(tmp_path):
    file = _file(tmp_path)
    settings = file.connection("contoso").with_override("test", "allow_user_sync", True)
    file = file.save(settings, consent=CONSENT)
    assert missing_consent(file, "contoso", "test") == ()
    # PROD ticked on by hand: TEST's entry does not cover it
    file = _hand_edit(tmp_path, "prod")
    assert missing_consent(file, "contoso", "prod") == ("allow_user_sync",)
    # promoting records PROD's own entry
    file = file.save(file.connection("contoso").promote(), consent=CONSENT)
    assert missing_consent(file, "contoso", "prod") == ("allow_user_sync",)  # no change made
    file = file.save(
        file.connection("contoso"), consent=CONSENT, confirm=[("prod", "allow_user_sync")]
    )
    assert missing_consent(file, "contoso", "prod") == ()
    assert file.consent_log("contoso")[-1].changes == (
        "allow_user_sync: override true -> override true",
    )


def test_turned_off_with_consent_then_on_by_hand_is_refused(tmp_path):
    file = _file(tmp_path)
    on = file.connection("contoso").with_override("test", "allow_user_sync", True)
    file = file.save(on, consent=CONSENT)
    off = file.connection("contoso").without_override("test", "allow_user_sync")
    file = file.save(off, consent=CONSENT)
    assert missing_consent(file, "contoso", "test") == ()  # off: the default
    file = _hand_edit(tmp_path, "test")
    assert missing_consent(file, "contoso", "test") == ("allow_user_sync",)
