"""The one cattrs converter that maps wire payloads onto cisync_lib's models.

Shaped like :mod:`cattrs.preconf`: :func:`configure_converter` adds the hooks
to any :class:`cattrs.Converter`, :func:`make_converter` builds a ready one.
Models never see wire names; this module owns them:

* camelCase names by a factory hook on every attrs class, plus the few names
  Graph spells differently (``displayName``, ``lastSeenDateTime``, ...);
* ids coerced to ``str`` (the design guide shows numeric app ids);
* date-only, full ISO-8601 (7-digit fractions, ``Z``) and epoch-millisecond
  timestamps, always read as aware UTC datetimes;
* enum values matched case-insensitively, unknown ones kept as strings;
* ``@odata.*`` annotations always ignored; other unknown keys ignored by
  default and forbidden with ``strict=True`` (tests use strict).
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._models import AppInfo
from ._wire import (
    FLAG_KEY,
    TRISTATE,
    format_timestamp,
    parse_timestamp,
    to_camel,
    to_snake,
    wire_name,
)

__all__ = ["configure_converter", "make_converter"]


# --- scalar hooks ---------------------------------------------------------------


def _structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # numeric ids in the design guide
    raise ValueError(f"expected a string, got {type(value).__name__}")


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)  # OData may write Int64 as a string
    raise ValueError(f"expected an integer, got {value!r}")


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"expected a boolean, got {value!r}")


def _structure_str_tuple(value: object, _: object) -> tuple[str, ...]:
    if value is None:
        return ()  # Graph writes null for an empty collection
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of strings, got {type(value).__name__}")
    return tuple(_structure_str(item, str) for item in value)


def _enum_or_str_parts(tp: Any) -> tuple[type[enum.Enum], bool] | None:
    """For ``SomeEnum | str [| None]`` return the enum and whether None is allowed."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    args = typing.get_args(tp)
    enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.Enum)]
    if len(enums) != 1 or str not in args:
        return None
    return enums[0], type(None) in args


def _unstructure_enum_or_str(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def _enum_or_str_hook(tp: Any) -> Callable[[object, object], object]:
    parts = _enum_or_str_parts(tp)
    assert parts is not None
    enum_cls, nullable = parts
    by_fold = {str(member.value).casefold(): member for member in enum_cls}

    def structure(value: object, _: object) -> object:
        if value is None and nullable:
            return None
        if isinstance(value, enum_cls):
            return value
        text = _structure_str(value, str)
        return by_fold.get(text.casefold(), text)  # unknown values are kept as given

    return structure


# --- class hooks ----------------------------------------------------------------


def _strip_annotations(data: object) -> object:
    if isinstance(data, Mapping):
        return {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("@"))}
    return data


def _class_structure_factory(conv: cattrs.Converter, strict: bool) -> Callable[[type], Any]:
    def factory(cls: type) -> Callable[[object, object], object]:
        overrides = {a.name: override(rename=wire_name(cls, a.name)) for a in attrs.fields(cls)}
        if cls is AppInfo:
            overrides["flags"] = override(omit=True)
        fn: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls,
            conv,
            _cattrs_forbid_extra_keys=strict,
            **overrides,  # type: ignore[arg-type]
        )

        if cls is not AppInfo:
            return lambda data, _: fn(_strip_annotations(data), cls)

        def structure_app_info(data: object, _: object) -> AppInfo:
            clean = _strip_annotations(data)
            if not isinstance(clean, Mapping):
                raise ValueError(f"expected an object, got {type(clean).__name__}")
            flags: dict[str, bool | None] = {}
            rest: dict[str, object] = {}
            for key, value in clean.items():
                if isinstance(key, str) and FLAG_KEY.match(key):
                    text = str(value).strip().casefold() if value is not None else "unknown"
                    if isinstance(value, bool):
                        flags[to_snake(key)] = value
                    elif text in TRISTATE:
                        flags[to_snake(key)] = TRISTATE[text]
                    else:
                        raise ValueError(f"{key}: expected true, false or unknown, got {value!r}")
                else:
                    rest[key] = value
            info: AppInfo = attrs.evolve(fn(rest, AppInfo), flags=flags)
            return info

        return structure_app_info

    return factory


def _class_unstructure_factory(conv: cattrs.Converter) -> Callable[[type], Any]:
    def factory(cls: type) -> Callable[[Any], dict[str, Any]]:
        overrides = {a.name: override(rename=wire_name(cls, a.name)) for a in attrs.fields(cls)}
        if cls is AppInfo:
            overrides["flags"] = override(omit=True)
        fn: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(
            cls,
            conv,
            **overrides,  # type: ignore[arg-type]
        )
        if cls is not AppInfo:
            return fn

        def unstructure_app_info(info: AppInfo) -> dict[str, Any]:
            out = fn(info)
            for name, value in info.flags.items():
                out[to_camel(name)] = "unknown" if value is None else ("true" if value else "false")
            return out

        return unstructure_app_info

    return factory


def configure_converter(conv: cattrs.Converter, *, strict: bool = False) -> None:
    """Add cisync_lib's wire hooks to ``conv``.

    Args:
        conv: the converter to configure.
        strict: forbid unknown keys (tests); otherwise they are ignored so a
            new Defender field never breaks a sync.
    """
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(datetime, lambda v, _: parse_timestamp(v))
    conv.register_unstructure_hook(datetime, format_timestamp)
    conv.register_structure_hook_func(lambda t: t == tuple[str, ...], _structure_str_tuple)
    conv.register_unstructure_hook_func(lambda t: t == tuple[str, ...], list)
    conv.register_structure_hook_factory(
        lambda t: _enum_or_str_parts(t) is not None, _enum_or_str_hook
    )
    conv.register_unstructure_hook(enum.Enum, lambda member: member.value)
    conv.register_unstructure_hook_func(
        lambda t: _enum_or_str_parts(t) is not None, _unstructure_enum_or_str
    )
    conv.register_structure_hook_factory(attrs.has, _class_structure_factory(conv, strict))
    conv.register_unstructure_hook_factory(attrs.has, _class_unstructure_factory(conv))


def make_converter(*, strict: bool = False) -> cattrs.Converter:
    """Build a converter with cisync_lib's hooks.

    Args:
        strict: forbid unknown keys; use in tests so that a typo in the
            library's own field names fails loudly.
    """
    conv = cattrs.Converter(forbid_extra_keys=strict)
    configure_converter(conv, strict=strict)
    return conv
