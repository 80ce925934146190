"""Laws of settings overrides and promotion, checked over generated connection settings."""

from hypothesis import given
from hypothesis import strategies as st

from cisync_lib.settings import SETTINGS, Environment
from tests import strategies as sts

TEST, PROD = Environment.TEST, Environment.PROD
key_subsets = st.none() | st.lists(st.sampled_from(list(SETTINGS)), unique=True).map(tuple)


@given(settings=sts.connection_settings, env=st.sampled_from(list(Environment)))
def test_effective_is_override_when_ticked_else_default(settings, env):
    effective = settings.effective(env)
    for name, spec in SETTINGS.items():
        override = settings.overrides[env].get(name)
        if override is not None and override.enabled:
            assert (effective[name], effective.source(name)) == (override.value, "override")
        else:
            assert (effective[name], effective.source(name)) == (spec.default, "default")


@given(settings=sts.connection_settings, keys=key_subsets)
def test_promoted_keys_show_no_difference(settings, keys):
    promoted = settings.promote(keys)
    names = set(SETTINGS) if keys is None else set(keys)
    assert not names & {row.name for row in promoted.diff()}


@given(settings=sts.connection_settings, keys=key_subsets)
def test_promote_is_idempotent(settings, keys):
    once = settings.promote(keys)
    assert once.promote(keys) == once


@given(settings=sts.connection_settings, keys=key_subsets)
def test_promote_leaves_test_and_unpromoted_prod_alone(settings, keys):
    promoted = settings.promote(keys)
    assert promoted.overrides[TEST] == settings.overrides[TEST]
    names = set(SETTINGS) if keys is None else set(keys)
    for name in set(SETTINGS) - names:
        assert promoted.overrides[PROD].get(name) == settings.overrides[PROD].get(name)
        assert promoted.effective(PROD).values[name] == settings.effective(PROD).values[name]


@given(settings=sts.connection_settings, a=key_subsets, b=key_subsets)
def test_promoting_in_parts_equals_promoting_the_union(settings, a, b):
    union = None if a is None or b is None else tuple(set(a) | set(b))
    assert settings.promote(a).promote(b) == settings.promote(union)


@given(settings=sts.connection_settings)
def test_promote_all_makes_prod_equal_test(settings):
    promoted = settings.promote()
    assert promoted.diff() == ()
    assert promoted.effective(PROD).values == promoted.effective(TEST).values


@given(
    settings=sts.connection_settings,
    env=st.sampled_from(list(Environment)),
    name=st.sampled_from(list(SETTINGS)),
    data=st.data(),
)
def test_override_then_remove_restores_the_default(settings, env, name, data):
    value = data.draw(sts.setting_values(SETTINGS[name]))
    changed = settings.with_override(env, name, value)
    assert changed.effective(env)[name] == value
    assert changed.effective(env).source(name) == "override"
    unticked = settings.with_override(env, name, value, enabled=False)
    assert unticked.effective(env)[name] == SETTINGS[name].default
    removed = changed.without_override(env, name)
    assert removed.effective(env).values[name].source == "default"
    assert removed.effective(env)[name] == SETTINGS[name].default
