"""Which relationships a job may select, and the error when it selects one that is off."""

import pytest

from cisync_lib import ConfigError, RelationshipNotAvailableError
from cisync_lib.settings import (
    ConnectionSettings,
    Environment,
    RelationshipKind,
    available_relationships,
    check_relationships,
)

TEST, PROD = Environment.TEST, Environment.PROD
APP, USERS = RelationshipKind.APP_CI, RelationshipKind.USER_USES_APP
BASE = ConnectionSettings(connection="contoso")


@pytest.mark.parametrize(
    ("settings", "env", "available"),
    [
        (BASE, TEST, (APP,)),
        (BASE, PROD, (APP,)),
        (BASE.with_override(TEST, "allow_user_sync", True), TEST, (APP, USERS)),
        (BASE.with_override(TEST, "allow_user_sync", True), PROD, (APP,)),
        # slider on, box unticked: still the default (off)
        (BASE.with_override(PROD, "allow_user_sync", True, enabled=False), PROD, (APP,)),
        (BASE.with_override(PROD, "allow_user_sync", False), PROD, (APP,)),
    ],
)
def test_available_relationships(settings, env, available):
    """ "User uses Cloud App" is available only while allow_user_sync is effectively on."""
    assert available_relationships(settings.effective(env)) == available


def test_names_are_the_products():
    """The kinds carry the names the product shows on its Relationships page."""
    assert [kind.value for kind in RelationshipKind] == ["Cloud App", "User uses Cloud App"]


def test_available_selection_passes():
    """A job may select what is available, by kind or by name."""
    eff = BASE.with_override(PROD, "allow_user_sync", True).effective(PROD)
    check_relationships([APP, "User uses Cloud App"], eff, connection="contoso")
    check_relationships(["Cloud App"], BASE.effective(PROD), connection="contoso")
    assert available_relationships(eff) == (APP, USERS)


@pytest.mark.parametrize("env", [TEST, PROD])
def test_unavailable_selection_names_the_fix(env):
    """Selecting the user relationship while it is off says which setting, environment, connection."""
    other = PROD if env is TEST else TEST
    settings = BASE.with_override(other, "allow_user_sync", True)
    with pytest.raises(RelationshipNotAvailableError) as info:
        check_relationships([APP, USERS], settings.effective(env), connection="contoso")
    error = info.value
    assert (error.setting, error.environment, error.connection) == (
        "allow_user_sync",
        env.value,
        "contoso",
    )
    name = env.value.upper()
    assert str(error) == (
        f"relationship 'User uses Cloud App' is not available for connection 'contoso' in "
        f"{name}: turn on 'allow_user_sync' for {name} (tick 'override default' and set it to true)"
    )


def test_unknown_relationship_name():
    """A name that is no relationship kind is a configuration error listing the kinds."""
    with pytest.raises(ConfigError) as info:
        check_relationships(["Device uses App"], BASE.effective(TEST), connection="contoso")
    assert str(info.value) == (
        "<config>: relationships: unknown relationship 'Device uses App' "
        '(allowed: "Cloud App" | "User uses Cloud App")'
    )
