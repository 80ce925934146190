"""pytest plugin shipping the sandbox fixtures to embedders (entry point ``pytest11``).

Importing this module must stay cheap and must not require the ``sandbox``
extra: pytest loads it in every project that has cisync_lib installed. The
sandbox itself is imported only when a test asks for one of the fixtures.

Fixtures:

* ``cisync_sandbox``: a fresh, empty sandbox for one test.
* ``cisync_sandbox_factory``: ``factory(config=None)`` starts a sandbox with
  your :class:`~cisync_lib.sandbox.SandboxConfig`; all are closed after the test.
* ``cisync_sandbox_session``: one sandbox shared by the whole session, for
  tests that only read or that clean up after themselves (faults and the
  request log are cleared before each test that uses it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cisync_lib.sandbox import Sandbox, SandboxConfig

SandboxFactory = Callable[..., "Sandbox"]


def _start(config: SandboxConfig | None) -> Sandbox:
    # pytest imports this plugin in every project that has cisync_lib installed; the
    # sandbox (werkzeug, trustme, the tenant generator) loads only when a fixture is used.
    # lazy: start-up time of every pytest run
    try:
        from cisync_lib.sandbox import Sandbox
    except ImportError as exc:  # pragma: no cover - depends on the environment
        pytest.fail(
            "the cisync sandbox needs the 'sandbox' extra: "
            f"pip install 'cisync-lib[sandbox]' ({exc})",
            pytrace=False,
        )
    return Sandbox(config).start()


@pytest.fixture
def cisync_sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes with a given configuration; they are closed after the test."""
    started: list[Sandbox] = []

    def factory(config: SandboxConfig | None = None) -> Sandbox:
        sandbox = _start(config)
        started.append(sandbox)
        return sandbox

    yield factory
    for sandbox in reversed(started):
        sandbox.close()


@pytest.fixture
def cisync_sandbox(cisync_sandbox_factory: SandboxFactory) -> Sandbox:
    """A fresh sandbox with the default configuration (an empty instance, no Defender data)."""
    return cisync_sandbox_factory()


@pytest.fixture(scope="session")
def _cisync_sandbox_shared() -> Iterator[Sandbox]:
    sandbox = _start(None)
    yield sandbox
    sandbox.close()


@pytest.fixture
def cisync_sandbox_session(_cisync_sandbox_shared: Sandbox) -> Sandbox:
    """The session's shared sandbox, with its fault rules and request log cleared."""
    _cisync_sandbox_shared.faults.clear()
    _cisync_sandbox_shared.request_log.clear()
    return _cisync_sandbox_shared
