"""The CMDB writer's typed policies come from a connection's effective settings."""

from datetime import timedelta

from cisync_lib.cmdb import AppScope, CmdbConfig, GuardPolicy, ScopePolicy
from cisync_lib.settings import ConnectionSettings
from cisync_lib.sync._factory import cmdb_config_for, scope_policy_for


def _effective(**overrides):
    settings = ConnectionSettings(connection="contoso")
    for name, value in overrides.items():
        settings = settings.with_override("test", name, value)
    return settings.effective("test")


def test_defaults_give_the_product_defaults():
    config = cmdb_config_for(CmdbConfig(), _effective())
    assert (config.grace.runs, config.grace.days) == (3, 0.0)
    assert config.guard == GuardPolicy()
    assert config.heartbeat == timedelta(hours=24)
    assert scope_policy_for(_effective()) == ScopePolicy()


def test_every_policy_value_comes_from_its_setting():
    effective = _effective(
        grace_runs=5,
        grace_days=2,
        max_retire_percent=30,
        max_unlink_percent=40,
        heartbeat_hours=6,
        max_risk_score=7,
        app_scope="sanctioned",
        allow_user_sync=True,
    )
    base = CmdbConfig(guard=GuardPolicy(min_count=4), adopt_by_name=False)
    config = cmdb_config_for(base, effective)
    assert (config.grace.runs, config.grace.days) == (5, 2.0)
    assert config.guard == GuardPolicy(max_retire_percent=30, max_unlink_percent=40, min_count=4)
    assert config.heartbeat == timedelta(hours=6)
    assert config.adopt_by_name is False  # the rest of the base is kept
    assert scope_policy_for(effective) == ScopePolicy(
        max_risk_score=7, app_scope=AppScope.SANCTIONED, allow_user_sync=True
    )
