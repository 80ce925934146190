"""The code of docs/sandbox-defender.md runs as written, against a real sandbox."""

import re
from pathlib import Path

PAGE = Path(__file__).parents[3] / "docs" / "sandbox-defender.md"


def test_docs_examples_run(cisync_sandbox_factory):
    """Every Python block runs in order; the first one's `with` block is the sandbox given."""
    from cisync_lib.sandbox import SandboxConfig

    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text("utf-8"), re.S)
    opening = 'with Sandbox(SandboxConfig(size="small", seed=1)) as sb:\n'
    assert opening in blocks[0]
    sb = cisync_sandbox_factory(SandboxConfig(size="small", seed=1))
    namespace = {"sb": sb}
    exec(blocks[0].replace(opening, "if True:\n"), namespace)
    for block in blocks[1:]:
        exec(block, namespace)
    assert namespace["apps"]
    assert namespace["token"]
