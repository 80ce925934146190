"""The ``pytest11`` plugin is loaded by every pytest run where cisync_lib is installed.

Loading it must not import the sandbox's servers, tenant generator or their foreign
libraries: they load when a test first asks for a fixture.
"""

import json
import subprocess
import sys

_PROBE = """
import json, sys
import cisync_lib.sandbox._pytest_plugin
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("cisync_lib", "werkzeug", "trustme")))))
"""


def _loaded_by(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_loading_the_plugin_imports_no_sandbox_module():
    loaded = _loaded_by(_PROBE)
    sandbox = [m for m in loaded if m.startswith("cisync_lib.sandbox.")]
    assert sandbox == ["cisync_lib.sandbox._pytest_plugin"]
    assert not [m for m in loaded if m.startswith(("werkzeug", "trustme"))]


def test_a_sandbox_name_still_loads_on_first_use():
    code = _PROBE.replace(
        "import cisync_lib.sandbox._pytest_plugin",
        "from cisync_lib.sandbox import SandboxConfig, Sandbox; SandboxConfig()",
    )
    loaded = _loaded_by(code)
    assert "cisync_lib.sandbox._config" in loaded
    assert "cisync_lib.sandbox._sandbox" in loaded


def test_loading_the_plugin_imports_nothing_of_the_library():
    # the top level loads its names on first use, so the plugin pulls in no model,
    # converter or error module (attrs and cattrs stay unloaded too)
    code = _PROBE.replace('"cisync_lib", ', '"cisync_lib", "attrs", "cattrs", ')
    loaded = _loaded_by(code)
    assert sorted(loaded) == [
        "cisync_lib",
        "cisync_lib._version",
        "cisync_lib.sandbox",
        "cisync_lib.sandbox._pytest_plugin",
    ]
