"""The TOML settings file: validation errors, consent, the consent log, comments, atomic writes."""

import os
import re
import stat
import warnings
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import attrs
import pytest
import tomlkit
from attrs import frozen
from hypothesis import given, settings

from cisync_lib import ConfigError, ConsentRequiredError
from cisync_lib.settings import (
    ConnectionTable,
    Consent,
    ConsentRecord,
    Environment,
    Override,
    SettingsDocument,
    load_settings,
)
from tests import strategies as sts

try:  # an oracle independent of tomlkit, where the standard library has one
    import tomllib

    def read_toml(path: Path) -> dict:
        return tomllib.loads(path.read_text(encoding="utf-8"))
except ImportError:  # Python 3.10

    def read_toml(path: Path) -> dict:
        return tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()


TEST, PROD = Environment.TEST, Environment.PROD
ALL_SETTINGS = (
    "allow_user_sync, max_risk_score, report_time_frame, app_scope, grace_runs, grace_days, "
    "max_retire_percent, max_unlink_percent, heartbeat_hours"
)
CONSENT = Consent(
    by="bob@contoso.com",
    at=datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc),
    statement="I consent to syncing user names into the CMDB.",
)

# a settings file laid out as docs/concepts.md shows it, with a user's comments
GOOD = """\
# Settings of the Defender for Cloud Apps connections (edited by hand).
[connections.contoso]
kind = "graph"  # the source reads Microsoft Graph

[connections.contoso.settings.test]
allow_user_sync = { override = true, value = true }  # on in TEST only

[connections.contoso.settings.prod]
# start PROD cautiously, as the vendor suggests
max_risk_score = { override = false, value = 4 }   # slider moved, box not ticked: ignored

[[connections.contoso.consent_log]]
by = "alice@contoso.com"
at = 2026-11-27T10:00:00Z
environment = "test"
changes = ["allow_user_sync: default false -> override true"]
"""


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "cisync.toml"
    path.write_text(GOOD, encoding="utf-8")
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != "cisync.toml")


class TestLoad:
    def test_reads_the_contract_layout(self, good):
        """The example file loads into overrides, effective values and the consent log."""
        file = load_settings(good)
        contoso = file.connection("contoso")
        assert contoso.overrides == {
            TEST: {"allow_user_sync": Override(enabled=True, value=True)},
            PROD: {"max_risk_score": Override(enabled=False, value=4)},
        }
        assert contoso.effective(TEST).allow_user_sync is True
        assert contoso.effective(PROD).max_risk_score == 10
        assert file.consent_log("contoso") == (
            ConsentRecord(
                by="alice@contoso.com",
                at=datetime(2026, 11, 27, 10, tzinfo=timezone.utc),
                environment=TEST,
                changes=("allow_user_sync: default false -> override true",),
            ),
        )
        assert file.consent_log("fabrikam") == ()

    def test_other_spellings_of_the_same_tables(self, tmp_path):
        """Sub-tables and dotted keys are the same TOML and load the same."""
        path = tmp_path / "cisync.toml"
        path.write_text(
            "[connections.contoso.settings.prod.max_risk_score]\noverride = true\nvalue = 4\n"
            "[connections.contoso.settings.test]\ngrace_days.override = true\ngrace_days.value = 2\n"
        )
        contoso = load_settings(path).connection("contoso")
        assert contoso.effective(PROD).max_risk_score == 4
        assert contoso.effective(TEST).grace_days == 2

    def test_unknown_connection(self, good):
        """Asking for a connection the file does not have names those it has."""
        with pytest.raises(ConfigError) as info:
            load_settings(good).connection("fabrikam")
        assert str(info.value) == (
            f"{good}: connections.fabrikam: no such connection (allowed: contoso)"
        )
        assert load_settings(good).connection("fabrikam", missing_ok=True).overrides[TEST] == {}

    def test_missing_file(self, tmp_path):
        """A missing file is an error unless missing_ok is given."""
        path = tmp_path / "nope.toml"
        with pytest.raises(ConfigError) as info:
            load_settings(path)
        assert str(info.value) == f"{path}: file not found"
        assert load_settings(path, missing_ok=True).connections == {}

    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            (
                "value = 4 }",
                "value = 11 }",
                ":10: connections.contoso.settings.prod.max_risk_score: 11 is out of range "
                "(allowed: integer 0..10)",
            ),
            (
                "value = 4 }",
                'value = "high" }',
                ":10: connections.contoso.settings.prod.max_risk_score: expected integer, got string "
                '"high" (allowed: integer 0..10)',
            ),
            (
                "value = 4 }",
                "value = 4.5 }",
                ":10: connections.contoso.settings.prod.max_risk_score: expected integer, got number "
                "4.5 (allowed: integer 0..10)",
            ),
            (
                "allow_user_sync = { override = true, value = true }",
                "report_time_frame = { override = true, value = 14 }",
                ":6: connections.contoso.settings.test.report_time_frame: 14 is not one of the "
                "allowed values (allowed: 7 | 30 | 90)",
            ),
            (
                "allow_user_sync = { override = true, value = true }",
                "allow_user_sync = { override = true, value = 1 }",
                ":6: connections.contoso.settings.test.allow_user_sync: expected boolean, got "
                "integer 1 (allowed: true | false)",
            ),
            (
                "override = false",
                'override = "no"',
                ":10: connections.contoso.settings.prod.max_risk_score.override: expected a "
                'boolean, got string "no" (allowed: true | false)',
            ),
            (
                "max_risk_score =",
                "max_risk =",
                f":10: connections.contoso.settings.prod.max_risk: unknown setting (allowed: "
                f"{ALL_SETTINGS})",
            ),
            (
                "value = 4 }",
                "value = 4, colour = 1 }",
                ":10: connections.contoso.settings.prod.max_risk_score.colour: unknown key "
                "(allowed: override, value)",
            ),
            (
                ", value = 4 }",
                " }",
                ":10: connections.contoso.settings.prod.max_risk_score.value: is required "
                "(allowed: override, value)",
            ),
            (
                "{ override = false, value = 4 }",
                "4",
                ":10: connections.contoso.settings.prod.max_risk_score: expected { override = true "
                "| false, value = ... }, got integer 4 (allowed: integer 0..10)",
            ),
            (
                "settings.prod]",
                "settings.staging]",
                ":8: connections.contoso.settings.staging: unknown environment string "
                '"staging" (allowed: "test" | "prod")',
            ),
            (
                'kind = "graph"',
                'kind = "graph"\ncolour = "blue"',
                ":4: connections.contoso.colour: unknown key (allowed: consent_log, kind, settings)",
            ),
            (
                'kind = "graph"',
                'kind = "lansweeper"',
                ':3: connections.contoso.kind: unknown kind string "lansweeper" (allowed: "graph" | '
                '"legacy" | "snapshot")',
            ),
            (
                "# Settings",
                '[destinations.prod]\nurl = "https://x"\n# Settings',
                ":1: destinations: unknown key (allowed: connections)",
            ),
            (
                "at = 2026-11-27T10:00:00Z",
                "at = 2026-11-27T10:00:00",
                ":14: connections.contoso.consent_log[0].at: expected an offset date-time, got "
                "date-time without offset (allowed: e.g. 2026-11-27T10:00:00Z)",
            ),
            (
                'environment = "test"',
                'environment = "dev"',
                ":15: connections.contoso.consent_log[0].environment: unknown environment string "
                '"dev" (allowed: "test" | "prod")',
            ),
            (
                'by = "alice@contoso.com"\n',
                "",
                ":12: connections.contoso.consent_log[0].by: is required (allowed: by, at, "
                "environment, changes, statement)",
            ),
        ],
    )
    def test_bad_file(self, good, old, new, message):
        """Each kind of bad file is refused, naming the file, line, dotted key and allowed values."""
        assert old in GOOD
        good.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            load_settings(good)
        assert str(info.value) == f"{good}{message}"
        assert info.value.file == str(good)

    @pytest.mark.parametrize(
        ("old", "new", "lines", "names"),
        [
            # an unterminated inline table: the parser stops on the next line's '['
            ("value = 4 }", "value = 4", {10, 11, 12}, ()),
            # a table defined twice; older tomlkit releases give no line for it
            (
                "[connections.contoso.settings.prod]",
                "[connections.contoso.settings.test]",
                {None, *range(1, GOOD.count("\n") + 2)},
                ("test",),
            ),
        ],
    )
    def test_toml_syntax_error(self, good, old, new, lines, names):
        """A TOML syntax error names the file, the line when the parser gives one, and the problem.

        The parser's own wording is not ours to pin (tomlkit 0.15 reworded these), so only
        what the library guarantees is asserted.
        """
        good.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            load_settings(good)
        error = info.value
        assert error.file == str(good)
        assert error.line in lines
        where = f"{good}:{error.line}: " if error.line is not None else f"{good}: "
        text = str(error)
        assert text.startswith(f"{where}invalid TOML")
        problem = text.removeprefix(where).removeprefix("invalid TOML")
        assert problem.strip(" :")  # the parser's description of the problem follows
        assert all(name in problem for name in names)

    def test_error_attributes(self, good):
        """The error's structured attributes are there for programs, not only the text."""
        good.write_text(GOOD.replace("value = 4 }", "value = 11 }"), encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            load_settings(good)
        error = info.value
        assert (error.key, error.line, error.allowed) == (
            "connections.contoso.settings.prod.max_risk_score",
            10,
            "integer 0..10",
        )


@frozen(kw_only=True)
class ApiConnection(ConnectionTable):
    """Another layer's keys in each ``[connections.<name>]`` table."""

    api: Literal["graph", "legacy"] | None = None


@frozen(kw_only=True)
class Destination:
    url: str


@frozen(kw_only=True)
class ApiDocument(SettingsDocument):
    """Another layer's tables next to ``connections``."""

    connections: Mapping[str, ApiConnection] = attrs.field(factory=dict)
    destinations: Mapping[str, Destination] = attrs.field(factory=dict)


class TestDocumentType:
    TEXT = GOOD + '\n[destinations.prod]\nurl = "https://example.service-now.com"\n'

    def test_another_layer_declares_its_keys(self, good):
        """Keys and tables a document subclass declares load, typed; the settings still work."""
        good.write_text(self.TEXT.replace('kind = "graph"', 'kind = "graph"\napi = "graph"'))
        file = load_settings(good, document_type=ApiDocument)
        assert isinstance(file.document, ApiDocument)
        assert file.document.destinations["prod"] == Destination(
            url="https://example.service-now.com"
        )
        assert file.document.connections["contoso"].api == "graph"
        assert file.data["connections"]["contoso"]["api"] == "graph"
        assert file.connection("contoso").effective(TEST).allow_user_sync is True

    def test_unknown_keys_still_fail(self, good):
        """Without the subclass the same keys are unknown; with it, its types report errors."""
        good.write_text(self.TEXT)
        with pytest.raises(ConfigError, match=r":18: destinations: unknown key"):
            load_settings(good)
        good.write_text(self.TEXT.replace('kind = "graph"', 'kind = "graph"\napi = "rest"'))
        with pytest.raises(ConfigError) as info:
            load_settings(good, document_type=ApiDocument)
        assert str(info.value) == (
            f'{good}:4: connections.contoso.api: string "rest" is not allowed '
            '(allowed: "graph" | "legacy")'
        )

    def test_the_settings_part_is_checked_in_a_subclass_too(self, good):
        """A subclass adds keys; the settings layout inside it is checked as before."""
        good.write_text(self.TEXT.replace("value = 4 }", "value = 11 }"))
        with pytest.raises(ConfigError) as info:
            load_settings(good, document_type=ApiDocument)
        assert (info.value.key, info.value.line) == (
            "connections.contoso.settings.prod.max_risk_score",
            10,
        )

    def test_saving_keeps_the_document_type(self, good):
        """A save re-reads the file with the same document class (its keys stay allowed)."""
        good.write_text(self.TEXT.replace('kind = "graph"', 'kind = "graph"\napi = "legacy"'))
        file = load_settings(good, document_type=ApiDocument)
        saved = file.save(file.connection("contoso").promote(), consent=CONSENT)
        assert isinstance(saved.document, ApiDocument)
        assert saved.document.connections["contoso"].api == "legacy"


class TestSave:
    def test_consent_refused_writes_nothing(self, good):
        """Saving a change without consent raises and leaves the file byte-identical."""
        before = good.read_bytes()
        file = load_settings(good)
        changed = file.connection("contoso").with_override(PROD, "allow_user_sync", True)
        with pytest.raises(ConsentRequiredError) as info:
            file.save(changed, consent=None)
        assert info.value.changes == ("prod: allow_user_sync: default false -> override true",)
        assert str(info.value) == (
            "saving settings of connection 'contoso' needs explicit consent (prod: "
            "allow_user_sync: default false -> override true); pass a Consent "
            "(CLI: --i-consent). Nothing was written."
        )
        assert good.read_bytes() == before
        assert leftovers(good.parent) == []

    def test_nothing_changed_needs_no_consent(self, good):
        """Saving unchanged settings writes nothing and needs no consent."""
        before = good.stat().st_mtime_ns, good.read_bytes()
        file = load_settings(good)
        assert file.save(file.connection("contoso"), consent=None) is file
        assert (good.stat().st_mtime_ns, good.read_bytes()) == before

    def test_consent_given_is_logged(self, good):
        """A consented save writes the change and logs who, when, which environment and what."""
        file = load_settings(good)
        changed = (
            file.connection("contoso")
            .with_override(PROD, "max_risk_score", 4)  # tick the box next to the slider
            .with_override(TEST, "report_time_frame", 90)
        )
        saved = file.save(changed, consent=CONSENT)
        on_disk = read_toml(good)["connections"]["contoso"]
        assert on_disk["settings"]["prod"]["max_risk_score"] == {"override": True, "value": 4}
        assert on_disk["settings"]["test"]["report_time_frame"] == {"override": True, "value": 90}
        assert on_disk["consent_log"][1:] == [
            {
                "by": "bob@contoso.com",
                "at": datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc),
                "environment": "test",
                "statement": "I consent to syncing user names into the CMDB.",
                "changes": ["report_time_frame: default 30 -> override 90"],
            },
            {
                "by": "bob@contoso.com",
                "at": datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc),
                "environment": "prod",
                "statement": "I consent to syncing user names into the CMDB.",
                "changes": ["max_risk_score: default 10 (unticked override 4) -> override 4"],
            },
        ]
        assert saved.connection("contoso") == changed
        assert load_settings(good).consent_log("contoso") == saved.consent_log("contoso")
        assert len(saved.consent_log("contoso")) == 3

    def test_comments_and_layout_preserved(self, good):
        """A save changes only the changed lines and appends to the log; comments stay."""
        file = load_settings(good)
        promoted = file.connection("contoso").promote(["allow_user_sync"])
        promoted = promoted.without_override(TEST, "allow_user_sync")
        file.save(promoted, consent=CONSENT)
        assert good.read_text() == GOOD.replace(
            "allow_user_sync = { override = true, value = true }  # on in TEST only\n", ""
        ).replace(
            "ignored\n",
            "ignored\nallow_user_sync = { override = true, value = true }\n",
        ) + (
            "\n"
            "[[connections.contoso.consent_log]]\n"
            'by = "bob@contoso.com"\n'
            "at = 2026-12-01T09:30:00Z\n"
            'environment = "test"\n'
            'statement = "I consent to syncing user names into the CMDB."\n'
            'changes = ["allow_user_sync: override true -> default false"]\n'
            "\n"
            "[[connections.contoso.consent_log]]\n"
            'by = "bob@contoso.com"\n'
            "at = 2026-12-01T09:30:00Z\n"
            'environment = "prod"\n'
            'statement = "I consent to syncing user names into the CMDB."\n'
            'changes = ["allow_user_sync: default false -> override true"]\n'
        )

    def test_new_file_and_new_connection(self, tmp_path):
        """Saving into a file that does not exist yet creates it in the contract's layout."""
        path = tmp_path / "cisync.toml"
        file = load_settings(path, missing_ok=True)
        settings = file.connection("fabrikam", missing_ok=True).with_override(
            TEST, "app_scope", "sanctioned"
        )
        file.save(settings, consent=CONSENT)
        data = read_toml(path)
        assert data["connections"]["fabrikam"]["settings"] == {
            "test": {"app_scope": {"override": True, "value": "sanctioned"}}
        }
        assert [e["environment"] for e in data["connections"]["fabrikam"]["consent_log"]] == [
            "test"
        ]
        assert load_settings(path).connection("fabrikam") == settings

    def test_other_spellings_are_edited_in_place(self, tmp_path):
        """Sub-tables, dotted keys and inline tables are changed where they are, in their form."""
        path = tmp_path / "cisync.toml"
        path.write_text(
            "[connections.a.settings.prod.max_risk_score]\n"
            "override = false  # the box\n"
            "value = 4\n"
            "\n"
            "[connections.a.settings.test]\n"
            "grace_days.override = true\n"
            "grace_days.value = 2\n"
            "\n"
            "[connections.b]\n"
            "settings = { test = { grace_runs = { override = true, value = 1 } } }\n"
            'consent_log = [{ by = "x", at = 2026-01-01T00:00:00Z, environment = "test", '
            "changes = [] }]\n"
        )
        file = load_settings(path)
        a = file.connection("a").with_override(PROD, "max_risk_score", 5)
        a = a.with_override(TEST, "grace_days", 3, enabled=False)
        file = file.save(a, consent=CONSENT)
        b = file.connection("b").with_override(TEST, "grace_runs", 2)
        file = file.save(b.with_override(PROD, "grace_runs", 9), consent=CONSENT)
        text = path.read_text()
        assert "override = true  # the box\nvalue = 5\n" in text
        assert "grace_days.override = false\ngrace_days.value = 3\n" in text
        assert "settings = { test = { grace_runs = { override = true, value = 2 } }, prod =" in text
        data = read_toml(path)["connections"]
        assert [entry["by"] for entry in data["b"]["consent_log"]] == ["x", CONSENT.by, CONSENT.by]
        assert [entry["environment"] for entry in data["a"]["consent_log"]] == ["test", "prod"]
        reloaded = load_settings(path)
        assert (reloaded.connection("a"), reloaded.connection("b")) == (
            file.connection("a"),
            file.connection("b"),
        )
        assert reloaded.connection("b").effective(PROD).grace_runs == 9

    def test_file_changed_on_disk_since_loading(self, good):
        """A save refuses to overwrite edits made after the file was loaded."""
        file = load_settings(good)
        edited = GOOD.replace("# start PROD", "# someone else: start PROD")
        good.write_text(edited)
        with pytest.raises(ConfigError, match="changed on disk since it was loaded"):
            file.save(file.connection("contoso").promote(), consent=CONSENT)
        assert good.read_text() == edited

    @pytest.mark.parametrize("fail_in", ["replace", "fsync", "write"])
    def test_crash_while_writing_leaves_the_original(self, good, monkeypatch, fail_in):
        """A failure part-way through a save leaves the original intact and no temp file."""
        before = good.read_bytes()
        file = load_settings(good)

        def boom(*args, **kwargs):
            raise OSError(28, "No space left on device")

        if fail_in == "write":
            real_fdopen = os.fdopen

            class HalfWritten:
                # writes half the text to the temp file, then the disk is full
                def __init__(self, handle):
                    self.handle = handle

                def __enter__(self):
                    return self

                def __exit__(self, *exc_info):
                    self.handle.close()

                def write(self, text):
                    self.handle.write(text[: len(text) // 2])
                    self.handle.flush()
                    boom()

            monkeypatch.setattr(os, "fdopen", lambda *a, **k: HalfWritten(real_fdopen(*a, **k)))
        else:
            monkeypatch.setattr(os, fail_in, boom)
        with pytest.raises(ConfigError) as info:
            file.save(file.connection("contoso").promote(), consent=CONSENT)
        assert "cannot write: [Errno 28] No space left on device" in str(info.value)
        assert good.read_bytes() == before
        assert leftovers(good.parent) == []

    def test_interrupt_while_writing_cleans_up(self, good, monkeypatch):
        """An interrupt (not an OSError) also removes the temp file and propagates unchanged."""
        before = good.read_bytes()
        file = load_settings(good)

        def interrupt(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(os, "replace", interrupt)
        with pytest.raises(KeyboardInterrupt):
            file.save(file.connection("contoso").promote(), consent=CONSENT)
        assert good.read_bytes() == before
        assert leftovers(good.parent) == []

    @pytest.mark.skipif(os.name != "posix", reason="POSIX file modes and symlinks")
    def test_mode_and_symlink_kept(self, good):
        """The file keeps its permissions, and a symlink to it stays a symlink."""
        good.chmod(0o640)
        link = good.parent / "link.toml"
        link.symlink_to(good)
        file = load_settings(link)
        file.save(file.connection("contoso").promote(), consent=CONSENT)
        assert link.is_symlink()
        assert stat.S_IMODE(good.stat().st_mode) == 0o640
        assert load_settings(good).connection("contoso").effective(PROD).allow_user_sync is True


@settings(max_examples=40)
@given(first=sts.connection_settings, second=sts.connection_settings)
def test_save_then_load_round_trip(tmp_path_factory, first, second):
    """Whatever settings are saved load back equal, and each save adds its log entries."""
    path = tmp_path_factory.mktemp("round") / "cisync.toml"
    file = load_settings(path, missing_ok=True)
    file = file.save(first, consent=CONSENT)
    second = attrs.evolve(second, connection=first.connection)
    expected_entries = len({c.environment for c in second.changes_from(first)})
    logged = len(file.consent_log(first.connection))
    file = file.save(second, consent=CONSENT)
    reloaded = load_settings(path, missing_ok=True)
    assert reloaded.connection(first.connection, missing_ok=True) == second
    assert len(reloaded.consent_log(first.connection)) == logged + expected_entries


def test_deprecated_kind_warns_once_per_load_not_on_save(good):
    """``kind = "mdca"`` loads (as an alias of graph) with a warning; saving does not repeat it."""
    good.write_text(GOOD.replace('kind = "graph"', 'kind = "mdca"'), encoding="utf-8")
    where = re.escape(f'{good}:3: connections.contoso.kind: "mdca" is deprecated')
    with pytest.warns(DeprecationWarning, match=where):
        file = load_settings(good)
    changed = file.connection("contoso").with_override(TEST, "grace_runs", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        saved = file.save(changed, consent=CONSENT)
    assert saved.connection("contoso").effective(TEST).grace_runs == 1
