"""Fixtures for the correlation unit tests: sys_user rows as in correlation.md section 4."""

import pytest

from cisync_lib import SnUser


def user(sys_id, user_name, email, active=True, cls="sys_user", **extra):
    """A sys_user fixture row ``(sys_id, user_name, email, active, sys_class_name)``."""
    return SnUser(
        sys_id=sys_id,
        user_name=user_name,
        email=email,
        active=active,
        sys_class_name=cls,
        **extra,
    )


@pytest.fixture
def u4():
    return user("U4", "jdoe", "jdoe@contoso.com")
