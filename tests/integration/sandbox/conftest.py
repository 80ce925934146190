"""Helpers for the sandbox's integration tests: sessions and pysnc clients bound to a sandbox."""

import uuid

import pysnc
import pytest
import requests


def make_session(sb, user=None, password=None):
    """A requests.Session that ignores the environment and trusts the sandbox CA."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(sb.ca_file)
    session.auth = (user or sb.servicenow_username, password or sb.servicenow_password)
    return session


def make_client(sb, user=None, password=None, **kwargs):
    """An unmodified pysnc client, given a ready Session as its auth (the reference's setup)."""
    return pysnc.ServiceNowClient(
        sb.servicenow_url, auth=make_session(sb, user, password), **kwargs
    )


def unique(prefix="t"):
    """A name no other test uses, so tests can share one sandbox."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sb(cisync_sandbox_session):
    """The session's shared sandbox (faults and log cleared); tests use unique data."""
    return cisync_sandbox_session


@pytest.fixture
def api(sb):
    """A requests.Session for raw Table API calls as the integration user."""
    session = make_session(sb)
    yield session
    session.close()


@pytest.fixture
def client(sb):
    """A pysnc client as the integration user."""
    c = make_client(sb)
    yield c
    c.session.close()
