"""Dotted keys and the line each key sits on in a TOML text, for error messages.

tomlkit keeps comments and layout but not line numbers, so this module scans
the text once for table headers and ``key =`` lines. It is best effort: a key
it cannot place is reported at the line of its nearest placed parent (inline
tables are single-line in TOML, so their keys get the right line that way).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

__all__ = ["dotted", "key_lines", "line_of"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_WS = re.compile(r"[ \t]*")

Part = str | int


def dotted(parts: Sequence[Part]) -> str:
    """Join key parts into a dotted key: ``connections.contoso.consent_log[0].by``.

    Parts that are not bare TOML keys are quoted; integers are array indexes.
    """
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if _BARE.fullmatch(part) else json.dumps(part)
            text += f".{name}" if text else name
    return text


def _skip_ws(line: str, pos: int) -> int:
    match = _WS.match(line, pos)
    return match.end() if match else pos


_BASIC = re.compile(r'"(?:[^"\\]|\\.)*"')
_LITERAL = re.compile(r"'[^']*'")


def _key_part(line: str, pos: int) -> tuple[str, int] | None:
    if line.startswith('"', pos):
        match = _BASIC.match(line, pos)
        if not match:
            return None
        try:
            return str(json.loads(match.group(0))), match.end()
        except ValueError:  # a TOML escape JSON does not know; the raw text will do
            return match.group(0)[1:-1], match.end()
    match = (_LITERAL if line.startswith("'", pos) else _BARE).match(line, pos)
    if not match:
        return None
    return match.group(0).strip("'"), match.end()


def _parse_key(line: str, pos: int) -> tuple[tuple[str, ...], int] | None:
    # returns the key parts and the position after the key, or None if no key starts here
    parts: list[str] = []
    while True:
        part = _key_part(line, _skip_ws(line, pos))
        if part is None:
            return None
        parts.append(part[0])
        pos = _skip_ws(line, part[1])
        if not line.startswith(".", pos):
            return tuple(parts), pos
        pos += 1


class _ValueScanner:
    """Follows strings and brackets so lines inside multi-line values are not read as keys."""

    def __init__(self) -> None:
        self.depth = 0
        self.multiline: str | None = None

    @property
    def inside(self) -> bool:
        return self.depth > 0 or self.multiline is not None

    def feed(self, line: str, pos: int = 0) -> None:
        end = len(line)
        while pos < end:
            if self.multiline:
                close = line.find(self.multiline, pos)
                if close < 0:
                    return
                pos, self.multiline = close + 3, None
                continue
            char = line[pos]
            if char == "#":
                return
            if line.startswith(('"""', "'''"), pos):
                self.multiline, pos = line[pos : pos + 3], pos + 3
                continue
            if char in "\"'":
                match = (_BASIC if char == '"' else _LITERAL).match(line, pos)
                pos = match.end() if match else end
                continue
            if char in "[{":
                self.depth += 1
            elif char in "]}":
                self.depth = max(0, self.depth - 1)
            pos += 1


def key_lines(text: str) -> dict[str, int]:
    """Map each dotted key found in ``text`` to its 1-based line."""
    found: dict[str, int] = {}
    table: tuple[Part, ...] = ()
    arrays: dict[tuple[str, ...], int] = {}  # array-of-tables path -> entries seen
    scanner = _ValueScanner()
    for number, line in enumerate(text.splitlines(), start=1):
        if scanner.inside:
            scanner.feed(line)
            continue
        pos = _skip_ws(line, 0)
        is_array = line.startswith("[[", pos)
        if line.startswith("[", pos):
            parsed = _parse_key(line, pos + (2 if is_array else 1))
            if parsed is None:
                continue
            header = parsed[0]
            if is_array:
                arrays[header] = arrays.get(header, 0) + 1
            resolved: list[Part] = []
            for size in range(1, len(header) + 1):
                resolved.append(header[size - 1])
                if header[:size] in arrays:
                    resolved.append(arrays[header[:size]] - 1)
            table = tuple(resolved)
            # parent tables a header creates implicitly start here too
            for size in range(1, len(table) + 1):
                found.setdefault(dotted(table[:size]), number)
            continue
        parsed = _parse_key(line, pos)
        if parsed is None or not line.startswith("=", parsed[1]):
            continue
        found.setdefault(dotted(table + parsed[0]), number)
        scanner.feed(line, parsed[1] + 1)
    return found


def line_of(lines: dict[str, int], key: str) -> int | None:
    """The line of ``key``, or of its nearest parent found in ``lines``, or ``None``."""
    best: int | None = None
    best_len = -1
    for candidate, number in lines.items():
        fits = key == candidate or (
            key.startswith(candidate) and key[len(candidate) : len(candidate) + 1] in (".", "[")
        )
        if fits and len(candidate) > best_len:
            best, best_len = number, len(candidate)
    return best
