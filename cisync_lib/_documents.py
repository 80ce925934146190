"""Saved documents (plans, run state, snapshots, reports): written, versioned and read one way.

Every document cisync_lib saves for itself is one JSON object whose top level
starts with two markers::

    {"format": "cisync-cmdb-plan", "version": 2, ...}

* ``format`` says what the document is; ``version`` is an integer bumped when
  the layout changes. A reader accepts every version from the oldest it still
  understands up to the newest it knows; a newer one asks for an upgrade.
  Documents written before a kind carried its ``format`` marker load without it.
* Timestamps are written in one form, ISO 8601 in UTC with a ``Z``
  (``2026-12-06T07:26:30.123456Z``, :func:`format_timestamp`); reading accepts
  that, any UTC offset, and the naive forms older files hold (taken as UTC).
* Files are replaced atomically (:func:`cisync_lib._atomic.write_atomic`); the
  kinds holding people's identifiers are owner-only (``0o600``).
* Every problem on load is a :class:`~cisync_lib.errors.DocumentError` (or the
  kind's subclass) naming the file, the JSON path and what is wrong.

A module that saves a document declares one :class:`DocumentKind` and goes
through it; nothing else reads or writes the markers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import cattrs
from attrs import frozen

from ._atomic import PRIVATE, write_atomic
from ._wire import format_timestamp, parse_timestamp
from .errors import DocumentError

__all__ = [
    "FORMAT_KEY",
    "VERSION_KEY",
    "DocumentKind",
    "format_timestamp",
    "parse_timestamp",
    "register_timestamps",
]

#: the top-level key naming what a document is
FORMAT_KEY = "format"
#: the top-level key holding the layout version (an integer)
VERSION_KEY = "version"

T = TypeVar("T")


def register_timestamps(converter: cattrs.Converter) -> cattrs.Converter:
    """Make ``converter`` write datetimes in the one document form and read every old one."""
    converter.register_unstructure_hook(datetime, format_timestamp)
    converter.register_structure_hook(datetime, lambda value, _: parse_timestamp(value))
    return converter


@frozen(kw_only=True)
class DocumentKind:
    """One kind of saved document: its markers, the versions it reads, how it fails.

    Attributes:
        name: how errors name it (``plan``, ``run state``, ``snapshot``, ``report``).
        format: the value of its ``format`` marker.
        version: the version written.
        oldest: the oldest version still read.
        error: the :class:`DocumentError` subclass raised on load.
        marker_optional: documents without a ``format`` marker still load (kinds
            that did not write one before).
        private: written owner-only (``0o600``): it holds people's identifiers.
        too_old: what to do with a document older than ``oldest`` (added to the
            error's message); empty: the message only names the versions read.
    """

    name: str
    format: str
    version: int
    oldest: int = 1
    error: type[DocumentError] = DocumentError
    marker_optional: bool = False
    private: bool = True
    too_old: str = ""

    def fail(
        self, source: str | os.PathLike[str], problem: str, json_path: str = ""
    ) -> DocumentError:
        """The error for ``problem`` at ``json_path`` of the document ``source``."""
        return self.error(
            document=self.name, file=os.fspath(source), json_path=json_path, problem=problem
        )

    def header(self) -> dict[str, Any]:
        """The markers a document of this kind starts with."""
        return {FORMAT_KEY: self.format, VERSION_KEY: self.version}

    def check(self, data: object, *, source: str | os.PathLike[str]) -> int:
        """Check the markers of a loaded document; returns its version.

        Raises:
            DocumentError: (the kind's subclass) not a JSON object, another kind of
                document, or a version this library does not read.
        """
        if not isinstance(data, Mapping):
            raise self.fail(source, "expected a JSON object", "$")
        marker = data.get(FORMAT_KEY)
        if marker != self.format and not (marker is None and self.marker_optional):
            raise self.fail(source, f"not a {self.format} document", f"$.{FORMAT_KEY}")
        version = data.get(VERSION_KEY)
        if not isinstance(version, int) or isinstance(version, bool) or version < self.oldest:
            readable = (
                str(self.version)
                if self.oldest == self.version
                else f"{self.oldest} to {self.version}"
            )
            problem = f"unsupported version {version!r} (this cisync-lib reads {readable})"
            if self.too_old and isinstance(version, int) and not isinstance(version, bool):
                problem += f"; {self.too_old}"
            raise self.fail(source, problem, f"$.{VERSION_KEY}")
        if version > self.version:
            raise self.fail(
                source,
                f"format version {version} is newer than this cisync-lib reads "
                f"({self.version}); upgrade cisync-lib",
                f"$.{VERSION_KEY}",
            )
        return version

    def body(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A checked document without its markers."""
        return {k: v for k, v in data.items() if k not in (FORMAT_KEY, VERSION_KEY)}

    def read(self, path: str | os.PathLike[str], *, missing_ok: bool = False) -> Any:
        """The parsed JSON of the file ``path`` (markers not checked yet: see :meth:`check`).

        Args:
            path: the file.
            missing_ok: return ``None`` when the file does not exist.

        Raises:
            DocumentError: (the kind's subclass) unreadable, or not JSON.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            if missing_ok:
                return None
            raise self.fail(path, f"cannot read: {exc.strerror or exc}") from exc
        except OSError as exc:
            raise self.fail(path, f"cannot read: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise self.fail(path, f"not UTF-8 text: {exc.reason}") from exc
        try:
            return json.loads(text)
        except ValueError as exc:
            raise self.fail(path, f"not valid JSON: {exc}", "$") from exc

    def dumps(
        self, body: Mapping[str, Any], *, indent: int | None = 1, sort_keys: bool = False
    ) -> str:
        """The document text: the markers, then ``body``."""
        document = {**self.header(), **self.body(body)}
        return json.dumps(document, indent=indent, sort_keys=sort_keys, ensure_ascii=False)

    def write(
        self,
        path: str | os.PathLike[str],
        body: Mapping[str, Any],
        *,
        indent: int | None = 1,
        sort_keys: bool = False,
    ) -> None:
        """Replace the file ``path`` atomically with a document holding ``body``.

        Raises:
            OSError: the file could not be written; a previous one is unchanged.
        """
        text = self.dumps(body, indent=indent, sort_keys=sort_keys) + "\n"
        write_atomic(path, text, mode=PRIVATE if self.private else None)

    def structure(
        self,
        converter: cattrs.Converter,
        data: object,
        cls: type[T],
        *,
        source: str | os.PathLike[str],
        json_path: str = "$",
    ) -> T:
        """Structure ``data`` (found at ``json_path``) into ``cls``.

        Raises:
            DocumentError: (the kind's subclass) naming each problem's JSON path.
        """
        try:
            return converter.structure(data, cls)
        except cattrs.BaseValidationError as exc:
            problems = cattrs.transform_error(exc, path=json_path)
            if len(problems) == 1 and " @ " in problems[0]:
                # cattrs words a problem "<what> @ <JSON path>": keep the two apart
                what, where = problems[0].rsplit(" @ ", 1)
                raise self.fail(source, what, where) from exc
            raise self.fail(source, "; ".join(problems), json_path) from exc
        except (ValueError, TypeError, KeyError) as exc:
            raise self.fail(source, f"invalid: {exc}", json_path) from exc
