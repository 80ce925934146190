"""Structuring whole payloads, with one readable error listing every problem."""

from __future__ import annotations

import typing
from typing import Any, TypeVar

import cattrs

from ._converter import make_converter
from ._wire import from_legacy, wire_name
from .errors import DefenderPayloadError

__all__ = ["structure_payload"]

T = TypeVar("T")


def structure_payload(
    data: object,
    cls: type[T],
    *,
    converter: cattrs.Converter | None = None,
    request: str | None = None,
    entity: str | None = None,
    path: str = "$",
    legacy: bool = False,
) -> T:
    """Structure ``data`` into ``cls``; failures become one :class:`DefenderPayloadError`.

    Args:
        data: the decoded JSON value.
        cls: the model class (or a type such as ``list[DiscoveredApp]``).
        converter: the converter to use; a lenient default when omitted.
        request: ``METHOD url`` (or a file name) named in the error.
        entity: what was being read, named in the error.
        path: the JSON path of ``data`` within its document (``$.value``).
        legacy: ``data`` is one object (or a list of objects) from the legacy
            Defender for Cloud Apps REST API, translated with the legacy key table.

    Raises:
        DefenderPayloadError: listing each problem with its JSON path.
    """
    conv = converter or _default_converter()
    if legacy:
        strict = bool(getattr(conv, "forbid_extra_keys", False))
        target = typing.get_args(cls)[0] if typing.get_origin(cls) is list else cls
        if isinstance(data, list):
            data = [from_legacy(item, target, strict=strict) for item in data]
        else:
            data = from_legacy(data, target, strict=strict)
    try:
        return conv.structure(data, cls)
    except Exception as exc:  # cattrs raises groups, ValueError, TypeError, KeyError...
        problems = _describe_problems(exc, path)
        name = entity or str(getattr(cls, "__name__", cls))
        raise DefenderPayloadError(request=request, entity=name, problems=problems) from exc


def _describe_problems(exc: BaseException, path: str) -> list[str]:
    """Like :func:`cattrs.transform_error`, but paths use the wire names."""
    without: list[Exception]
    if isinstance(exc, cattrs.IterableValidationError):
        indexed, without = exc.group_exceptions()
        problems = [
            line
            for sub, inote in indexed
            for line in _describe_child(sub, f"{path}[{inote.index!r}]", inote.type)
        ]
    elif isinstance(exc, cattrs.ClassValidationError):
        named, without = exc.group_exceptions()
        problems = [
            line
            for sub, anote in named
            for line in _describe_child(sub, f"{path}.{wire_name(exc.cl, anote.name)}", anote.type)
        ]
    else:
        return [f"{_format_exception(exc, None)} @ {path}"]
    problems.extend(f"{_format_exception(sub, None)} @ {path}" for sub in without)
    return problems


def _describe_child(exc: BaseException, path: str, tp: Any) -> list[str]:
    if isinstance(exc, (cattrs.ClassValidationError, cattrs.IterableValidationError)):
        return _describe_problems(exc, path)
    return [f"{_format_exception(exc, tp)} @ {path}"]


def _format_exception(exc: BaseException, tp: Any) -> str:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown keys ({', '.join(sorted(exc.extra_fields))})"
    if isinstance(exc, KeyError):
        return "required key missing"
    if isinstance(exc, (ValueError, TypeError)) and str(exc):
        return str(exc)  # our hooks and attrs validators say what was expected
    return cattrs.v.format_exception(exc, tp)


_DEFAULT: cattrs.Converter | None = None


def _default_converter() -> cattrs.Converter:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = make_converter()
    return _DEFAULT
