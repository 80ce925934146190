"""The settings model: product defaults, overrides and their tick box, TEST vs PROD, diff, promotion."""

from datetime import datetime, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cisync_lib import ConfigError
from cisync_lib.settings import (
    SETTINGS,
    ConnectionSettings,
    Consent,
    EffectiveSettings,
    EffectiveValue,
    Environment,
    Override,
)
from tests import strategies as sts

TEST, PROD = Environment.TEST, Environment.PROD

# the product defaults as the issue and the product documentation state them
# (written out here, not read from the registry, so the registry is checked)
PRODUCT_DEFAULTS = {
    "allow_user_sync": False,
    "max_risk_score": 10,
    "report_time_frame": 30,
    "app_scope": "all",
    "grace_runs": 3,
    "grace_days": 0,
    "max_retire_percent": 10.0,
    "max_unlink_percent": 20.0,
    "heartbeat_hours": 24,
}


def blank(name="contoso"):
    return ConnectionSettings(connection=name)


class TestRegistry:
    def test_registered_settings_and_defaults(self):
        """Every setting is registered with its documented product default, in product order."""
        assert {name: spec.default for name, spec in SETTINGS.items()} == PRODUCT_DEFAULTS
        assert list(SETTINGS)[:3] == ["allow_user_sync", "max_risk_score", "report_time_frame"]

    @pytest.mark.parametrize(
        ("name", "allowed"),
        [
            ("allow_user_sync", "true | false"),
            ("max_risk_score", "integer 0..10"),
            ("report_time_frame", "7 | 30 | 90"),
            ("app_scope", '"all" | "sanctioned" | "sanctioned_or_monitored"'),
            ("grace_runs", "integer >= 0"),
            ("grace_days", "integer >= 0"),
            ("max_retire_percent", "number 0..100"),
            ("max_unlink_percent", "number 0..100"),
            ("heartbeat_hours", "integer >= 1"),
        ],
    )
    def test_allowed_text(self, name, allowed):
        """Each spec says what it accepts in the form error messages use."""
        assert SETTINGS[name].allowed == allowed

    def test_every_setting_is_documented(self):
        """Each spec carries a title and a description a user can act on."""
        for spec in SETTINGS.values():
            assert spec.title
            assert len(spec.doc) > 60, spec.name

    @pytest.mark.parametrize(
        ("name", "value", "expected"),
        [
            ("allow_user_sync", True, True),
            ("max_risk_score", 0, 0),
            ("max_risk_score", 10, 10),
            ("report_time_frame", 7, 7),
            ("report_time_frame", 90, 90),
            ("max_retire_percent", 5, 5.0),
            ("max_unlink_percent", 0.5, 0.5),
            ("app_scope", "sanctioned_or_monitored", "sanctioned_or_monitored"),
            ("heartbeat_hours", 1, 1),
        ],
    )
    def test_validate_accepts(self, name, value, expected):
        """Allowed values pass, an integer for a number setting becomes a float."""
        result = SETTINGS[name].validate(value)
        assert result == expected
        assert type(result) is type(expected)

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("allow_user_sync", 1, "expected boolean, got integer 1 (allowed: true | false)"),
            (
                "allow_user_sync",
                "yes",
                'expected boolean, got string "yes" (allowed: true | false)',
            ),
            ("max_risk_score", True, "expected integer, got boolean true (allowed: integer 0..10)"),
            ("max_risk_score", 4.0, "expected integer, got number 4.0 (allowed: integer 0..10)"),
            ("max_risk_score", 11, "11 is out of range (allowed: integer 0..10)"),
            ("max_risk_score", -1, "-1 is out of range (allowed: integer 0..10)"),
            ("report_time_frame", 14, "14 is not one of the allowed values (allowed: 7 | 30 | 90)"),
            ("grace_runs", -1, "-1 is out of range (allowed: integer >= 0)"),
            ("heartbeat_hours", 0, "0 is out of range (allowed: integer >= 1)"),
            ("max_retire_percent", 100.5, "100.5 is out of range (allowed: number 0..100)"),
            ("max_retire_percent", float("nan"), "nan is not a finite number"),
            ("app_scope", "none", '"none" is not one of the allowed values'),
            ("app_scope", None, "expected string, got NoneType"),
        ],
    )
    def test_validate_refuses(self, name, value, message):
        """A wrong type or a value out of range is refused with what is allowed."""
        with pytest.raises(ConfigError) as info:
            SETTINGS[name].validate(value)
        assert message in str(info.value)


class TestEffective:
    @pytest.mark.parametrize("env", [TEST, PROD])
    def test_defaults_everywhere(self, env):
        """With no overrides a job uses every product default, each marked as default."""
        eff = blank().effective(env)
        assert {n: v.value for n, v in eff.values.items()} == PRODUCT_DEFAULTS
        assert {v.source for v in eff.values.values()} == {"default"}
        assert eff.overridden == ()
        assert (eff.allow_user_sync, eff.max_risk_score, eff.report_time_frame) == (False, 10, 30)

    @pytest.mark.parametrize(
        ("enabled", "value", "expected", "source"),
        [
            (True, 4, 4, "override"),  # box ticked: the slider counts
            (False, 4, 10, "default"),  # slider moved, box unticked: ignored
            (True, 10, 10, "override"),  # ticked at the default value: still an override
        ],
    )
    def test_override_counts_only_when_ticked(self, enabled, value, expected, source):
        """An override counts only while its "override default" box is ticked."""
        settings = blank().with_override(PROD, "max_risk_score", value, enabled=enabled)
        eff = settings.effective(PROD)
        assert eff.max_risk_score == expected
        assert eff.source("max_risk_score") == source
        assert eff.values["max_risk_score"] == EffectiveValue(
            name="max_risk_score", value=expected, source=source
        )
        # the unticked value is kept, so ticking the box later restores it
        assert settings.overrides[PROD]["max_risk_score"] == Override(enabled=enabled, value=value)

    @pytest.mark.parametrize(
        ("value", "source", "text"),
        [(True, "override", "true (override)"), (4, "default", "4 (default)"),
         (0.5, "override", "0.5 (override)"), ("all", "default", '"all" (default)')],
    )  # fmt: skip
    def test_an_effective_value_describes_itself_as_toml(self, value, source, text):
        assert EffectiveValue(name="x", value=value, source=source).describe() == text

    def test_test_and_prod_are_independent(self):
        """An override in TEST changes nothing in PROD, and the other way round."""
        settings = (
            blank()
            .with_override(TEST, "allow_user_sync", True)
            .with_override(PROD, "report_time_frame", 90)
        )
        test, prod = settings.effective(TEST), settings.effective(PROD)
        assert (test.allow_user_sync, test.report_time_frame) == (True, 30)
        assert (prod.allow_user_sync, prod.report_time_frame) == (False, 90)
        assert test.overridden == ("allow_user_sync",)
        assert prod.overridden == ("report_time_frame",)

    def test_environment_by_name(self):
        """Environments may be named by their value, as in the file and on the command line."""
        assert blank().with_override("test", "grace_runs", 0).effective("test").grace_runs == 0

    def test_without_override_restores_the_default(self):
        """Removing an override gives the default back."""
        settings = blank().with_override(TEST, "grace_days", 7).without_override(TEST, "grace_days")
        assert settings.effective(TEST).grace_days == 0
        assert settings.overrides[TEST] == {}

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (
                lambda s: s.with_override(PROD, "max_risk_score", 11),
                "<config>: connections.contoso.settings.prod.max_risk_score: 11 is out of range "
                "(allowed: integer 0..10)",
            ),
            (
                lambda s: s.with_override(TEST, "report_time_frame", 14),
                "<config>: connections.contoso.settings.test.report_time_frame: 14 is not one "
                "of the allowed values (allowed: 7 | 30 | 90)",
            ),
            (
                lambda s: s.with_override(TEST, "max_risk", 4),
                "<config>: connections.contoso.settings.test.max_risk: unknown setting (allowed: "
                + ", ".join(PRODUCT_DEFAULTS)
                + ")",
            ),
            (
                lambda s: s.with_override("staging", "max_risk_score", 4),
                "<config>: connections.contoso.settings.staging: unknown environment "
                "(allowed: test | prod)",
            ),
            (
                lambda s: s.effective("dev"),
                "<config>: connections.contoso.settings.dev: unknown environment "
                "(allowed: test | prod)",
            ),
        ],
    )
    def test_changes_in_code_are_validated(self, call, message):
        """Values set from code are checked like values in the file."""
        with pytest.raises(ConfigError) as info:
            call(blank())
        assert str(info.value) == message

    def test_effective_settings_built_directly(self):
        """Names left out take their default; values are checked and normalised."""
        eff = EffectiveSettings(
            environment="prod",
            values={
                "allow_user_sync": EffectiveValue(
                    name="allow_user_sync", value=True, source="override"
                ),
                "max_unlink_percent": EffectiveValue(
                    name="max_unlink_percent", value=5, source="override"
                ),
            },
        )
        assert eff.environment is PROD
        assert eff["allow_user_sync"] is True
        assert eff.max_unlink_percent == 5.0
        assert isinstance(eff.max_unlink_percent, float)
        assert eff["heartbeat_hours"] == 24
        assert eff.source("heartbeat_hours") == "default"
        with pytest.raises(ConfigError, match="max_risk: unknown setting"):
            eff["max_risk"]
        with pytest.raises(ConfigError, match=r"max_risk_score: 12 is out of range"):
            EffectiveSettings(
                environment=TEST,
                values={
                    "max_risk_score": EffectiveValue(
                        name="max_risk_score", value=12, source="override"
                    )
                },
            )

    @given(settings=sts.connection_settings, env=st.sampled_from(list(Environment)))
    def test_effective_uses_only_ticked_overrides(self, settings, env):
        """effective() returns an override's value only when its flag is set, else the default."""
        eff = settings.effective(env)
        assert list(eff.values) == list(SETTINGS)
        for name, item in eff.values.items():
            override = settings.overrides[env].get(name)
            if override is not None and override.enabled:
                assert (item.value, item.source) == (override.value, "override")
            else:
                assert (item.value, item.source) == (SETTINGS[name].default, "default")

    def test_model_is_immutable(self):
        """Settings cannot be changed in place; changes make copies."""
        settings = blank().with_override(TEST, "grace_runs", 1)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            settings.connection = "other"  # type: ignore[misc]
        with pytest.raises(TypeError):
            settings.overrides[TEST]["grace_runs"] = Override(enabled=True, value=2)  # type: ignore[index]
        assert blank().overrides == {TEST: {}, PROD: {}}


class TestDiffAndPromote:
    SETTINGS_ = (
        ConnectionSettings(connection="contoso")
        .with_override(TEST, "allow_user_sync", True)
        .with_override(TEST, "max_risk_score", 6)
        .with_override(TEST, "report_time_frame", 90, enabled=False)
        .with_override(PROD, "max_risk_score", 4)
        .with_override(PROD, "grace_runs", 5)
    )

    def test_diff_only_differences(self):
        """diff() lists the settings a TEST job and a PROD job see differently, with sources."""
        rows = self.SETTINGS_.diff()
        assert [str(row) for row in rows] == [
            "allow_user_sync: test true (override) | prod false (default)",
            "max_risk_score: test 6 (override) | prod 4 (override)",
            "grace_runs: test 3 (default) | prod 5 (override)",
        ]
        assert rows[0].a_override == Override(enabled=True, value=True)
        assert rows[0].b_override is None

    def test_diff_all(self):
        """With only_differences=False every setting is listed, the same ones too."""
        rows = self.SETTINGS_.diff(only_differences=False)
        assert [row.name for row in rows] == list(SETTINGS)
        same = {row.name for row in rows if not row.differs}
        # the unticked time frame does not make TEST differ from PROD
        assert "report_time_frame" in same
        assert len(same) == len(SETTINGS) - 3

    def test_diff_reversed(self):
        """diff(PROD, TEST) puts PROD first."""
        row = self.SETTINGS_.diff(PROD, TEST)[0]
        assert (row.a_environment, row.a.value, row.b.value) == (PROD, False, True)

    def test_promote_all(self):
        """Promoting everything makes PROD's stored overrides exactly TEST's."""
        promoted = self.SETTINGS_.promote()
        assert promoted.overrides[PROD] == self.SETTINGS_.overrides[TEST]
        assert promoted.overrides[TEST] == self.SETTINGS_.overrides[TEST]
        assert promoted.diff() == ()
        # the unticked TEST value travels with its unticked box
        assert promoted.overrides[PROD]["report_time_frame"] == Override(enabled=False, value=90)
        # PROD's own override of a setting TEST leaves at default is gone
        assert "grace_runs" not in promoted.overrides[PROD]

    @pytest.mark.parametrize(
        ("keys", "prod_after"),
        [
            (
                ["allow_user_sync"],
                {
                    "allow_user_sync": (True, True),
                    "max_risk_score": (True, 4),
                    "grace_runs": (True, 5),
                },
            ),
            (
                ("max_risk_score", "grace_runs"),
                {"max_risk_score": (True, 6)},
            ),
            (
                ["report_time_frame"],
                {
                    "report_time_frame": (False, 90),
                    "max_risk_score": (True, 4),
                    "grace_runs": (True, 5),
                },
            ),
            ([], {"max_risk_score": (True, 4), "grace_runs": (True, 5)}),
            # one name as a plain string is that setting, not its letters
            (
                "allow_user_sync",
                {
                    "allow_user_sync": (True, True),
                    "max_risk_score": (True, 4),
                    "grace_runs": (True, 5),
                },
            ),
        ],
    )
    def test_promote_selected(self, keys, prod_after):
        """Only the named settings are promoted; PROD keeps the rest."""
        promoted = self.SETTINGS_.promote(keys)
        stored = {n: (o.enabled, o.value) for n, o in promoted.overrides[PROD].items()}
        assert stored == prod_after
        assert promoted.overrides[TEST] == self.SETTINGS_.overrides[TEST]

    def test_promote_unknown_key(self):
        """Unknown names are refused with the list of known settings."""
        with pytest.raises(ConfigError) as info:
            self.SETTINGS_.promote(["max_risk_score", "risk", "colour"])
        assert str(info.value) == (
            "<config>: risk, colour: cannot promote: unknown setting (allowed: "
            + ", ".join(PRODUCT_DEFAULTS)
            + ")"
        )

    def test_changes_describe_old_and_new_with_the_flag(self):
        """A change lists old and new state, including an unticked box."""
        after = self.SETTINGS_.promote(["report_time_frame", "max_risk_score"])
        assert [str(c) for c in after.changes_from(self.SETTINGS_)] == [
            "prod: max_risk_score: override 4 -> override 6",
            "prod: report_time_frame: default 30 -> default 30 (unticked override 90)",
        ]


class TestConsent:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"by": " "}, "<config>: consent.by: must be a non-empty string"),
            ({"statement": ""}, "<config>: consent.statement: must be a non-empty string"),
            (
                {"at": datetime(2026, 1, 1)},
                "<config>: consent.at: must be a datetime with a time zone",
            ),
        ],
    )
    def test_consent_must_be_explicit(self, fields, message):
        """Consent names a person, an aware time and a statement."""
        base = {
            "by": "alice",
            "at": datetime(2026, 1, 1, tzinfo=timezone.utc),
            "statement": "I consent",
        }
        with pytest.raises(ConfigError) as info:
            Consent(**{**base, **fields})
        assert str(info.value) == message

    def test_consent_now(self):
        """Consent.now() records the current UTC time and the standard statement."""
        consent = Consent.now("alice@contoso.com")
        assert consent.at.tzinfo is timezone.utc
        assert "I consent" in consent.statement
