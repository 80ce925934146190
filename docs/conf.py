"""Sphinx configuration (Markdown pages through myst-parser, furo theme)."""

import sys
from pathlib import Path

from cisync_lib import __version__

# the local extension that renders the settings, config and CLI references from the code
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "cisync_lib"
author = "cisync_lib contributors"
release = version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "cisync_reference",
    "cisync_reexports",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "dev", "_ext"]
html_theme = "furo"
# the JSON Schema of `cisync --json` output, served as a file next to the pages
html_extra_path = ["cli-json.schema.json"]
html_title = f"cisync_lib {version}"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True

# No intersphinx: build machines have no network, and -W would fail on it.
nitpicky = True
nitpick_ignore_regex = [
    # third-party types in signatures that have no inventory offline
    (r"py:class", r"(cattrs|attrs|attr|requests|pysnc|msal|werkzeug|urllib3|tomlkit|_io)\..*"),
    (r"py:class", r"(datetime|pathlib|collections\.abc|typing|enum|os)\..*"),
    (r"py:class", r"(T|T_co|Path|Any|Callable|Mapping|Sequence|Iterable|Iterator|datetime)"),
    (r"py:class", r"(ClassVar|Self|Protocol|NoneType|Literal.*)"),
    # the sandbox: stdlib types and names imported only for type checking (no extra needed)
    (r"py:class", r"(threading|ssl)\..*|TlsMaterial|WsgiApp"),
    # classes of other areas named in signatures before their API pages document them
    (r"py:class", r"(Correlator|CmdbConfig|WritePath|Plan|DefenderSource|ServiceNowConnection)"),
    # the sandbox's served-from-a-file tenant: internal, named in a return annotation
    (r"py:class", r"SnapshotTenant"),
    # private types named in public signatures and docstrings (a row mapping, a write's kind)
    (r"py:class", r"Row|OpKind"),
    # type variables and aliases inside private modules
    (r"py:(class|obj|data)", r"cisync_lib(\.\w+)*\._\w+\.[A-Z_]\w*"),
]
