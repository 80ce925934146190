"""Files written the way cisync_lib writes its own: atomically, owner-only when they name people.

Every file the library saves (settings, snapshots, token caches, run state,
plans, reports) goes through :func:`write_atomic`, so a crash or a full disk
never leaves half a file and a file holding people's identifiers is never
readable by others, not even for a moment. A program built on the library
(the ``cisync`` command is one) writes its own files the same way.

Example::

    from cisync_lib.files import PRIVATE, write_atomic

    write_atomic("people.csv", csv_text, mode=PRIVATE)  # owner-only: it names people
"""

from __future__ import annotations

from ._atomic import PRIVATE, write_atomic

__all__ = ["PRIVATE", "write_atomic"]
