"""``-v/--verbose`` and ``--debug``: log records on stderr, with secrets masked.

The library only creates loggers; the command, being an application, attaches
the one handler here. A filter masks anything that looks like a credential
(``Authorization`` values, bearer tokens, ``password=``/``secret=`` pairs) in
case a foreign library logs one.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

__all__ = ["configure_logging", "redact"]

_SECRETS = (
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(basic|bearer)?\s*[^\s'\",}]+"),
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
    re.compile(
        r"(?i)((?:password|passwd|secret|client_secret|client_assertion|access_token|"
        r"refresh_token|api[_-]?key|token)['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,}]+"
    ),
)
_MARK = "cisync-cli"


def redact(text: str) -> str:
    """``text`` with credential-looking values replaced by ``***``."""
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def configure_logging(*, verbose: bool, debug: bool, stream: TextIO | None = None) -> None:
    """Log INFO (``verbose``) or DEBUG (``debug``) records of every logger on ``stream``."""
    if not (verbose or debug):
        return
    root = logging.getLogger()
    if any(getattr(h, "name", "") == _MARK for h in root.handlers):
        return  # already set up (main() called twice in one process)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_MARK)
    handler.addFilter(_Redact())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    # msal's own DEBUG lines add nothing our request lines do not say
    logging.getLogger("msal").setLevel(logging.INFO)
