"""The strict converter for human-edited configuration, and errors that name the file line.

Configuration files are structured into frozen attrs classes by a cattrs
converter of their own, separate from the lenient wire converter
(:mod:`cisync_lib._converter`) that reads Defender payloads:

* an unknown key is an error (``forbid_extra_keys``), and so is a missing required one;
* values are never coerced: ``"4"`` is not ``4``, ``1`` is not ``true``, a string
  is not an array of its letters;
* every problem cattrs finds (detailed validation) is mapped back to the dotted
  key it concerns and, with :func:`~cisync_lib.settings._lines.key_lines`, to
  the line it sits on; the first one in the file is raised as a
  :class:`~cisync_lib.errors.ConfigError` naming file, line, key and the values allowed.

A class whose TOML keys differ from its attribute names says so with
:func:`rename_keys` (models stay free of file spellings); a value type with its
own rule is a :class:`~typing.NewType` registered here (:data:`NonEmptyStr`,
:data:`HttpsUrl`, :data:`ProxyUrl`).
"""

from __future__ import annotations

import collections.abc
import enum
import math
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal, NewType, TypeVar

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_mapping_structure_fn, override

from cisync_lib.errors import ConfigError

from ._lines import Part, dotted, key_lines, line_of
from ._spec import describe_found

__all__ = [
    "HttpsUrl",
    "NonEmptyStr",
    "UnknownKeyHook",
    "ProxyUrl",
    "describe_type",
    "make_config_converter",
    "with_note",
    "rename_keys",
    "structure_config",
    "toml_keys",
]

_T = TypeVar("_T")

#: A string with something in it besides spaces.
NonEmptyStr = NewType("NonEmptyStr", str)
#: An ``https://`` URL (TLS is never optional towards Entra, Graph or ServiceNow).
HttpsUrl = NewType("HttpsUrl", str)

#: A proxy's URL: ``http://proxy.example:8080``.
ProxyUrl = NewType("ProxyUrl", str)

#: Called with the dotted path of an unknown key; returns the error to report instead of
#: "unknown key" (e.g. "secrets never go in the config"), or ``None``.
UnknownKeyHook = Callable[[tuple[Part, ...]], "ConfigError | None"]


def _expected(what: str, value: object, allowed: str | None = None) -> ConfigError:
    return ConfigError(problem=f"expected {what}, got {describe_found(value)}", allowed=allowed)


_RENAMES: dict[type, Mapping[str, str]] = {}


def rename_keys(cls: type, keys: Mapping[str, str]) -> None:
    """Spell attributes of ``cls`` differently in files: ``{"enabled": "override"}``."""
    _RENAMES[cls] = MappingProxyType(dict(keys))


def _key_of(cls: type, name: str) -> str:
    return _RENAMES.get(cls, {}).get(name, name)


def toml_keys(cls: type) -> tuple[str, ...]:
    """The keys a table structured into attrs class ``cls`` may hold, in declaration order."""
    return tuple(_key_of(cls, a.name) for a in attrs.fields(cls) if a.init)


# --- scalar hooks: the type, never a coercion --------------------------------------------


def _str(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise _expected("a string", value)
    return value


def _non_empty(value: object, _: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _expected("a non-empty string", value)
    return value


def _https_url(value: object, _: object) -> str:
    if not isinstance(value, str) or not value.startswith("https://") or len(value) < 9:
        raise _expected("an https:// URL", value, '"https://..."')
    return value


def _proxy_url(value: object, _: object) -> str:
    if not isinstance(value, str) or "://" not in value:
        raise _expected("a proxy URL", value, '"http://proxy.example:8080"')
    return value


def _bool(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise _expected("a boolean", value, "true | false")
    return value


def _int(value: object, _: object) -> int:
    if type(value) is not int:
        raise _expected("an integer", value)
    return value


def _float(value: object, _: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _expected("a number", value)
    return float(value)


def _datetime(value: object, _: object) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        found = "date-time without offset" if isinstance(value, datetime) else None
        raise ConfigError(
            problem=f"expected an offset date-time, got {found or describe_found(value)}",
            allowed="e.g. 2026-11-27T10:00:00Z",
        )
    return value


def _any(value: object, _: object) -> object:
    return value


def _quoted(values: typing.Iterable[object]) -> str:
    return " | ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in values)


def _is_literal(t: object) -> bool:
    return typing.get_origin(t) is Literal


def _literal(value: object, t: object) -> object:
    allowed = typing.get_args(t)
    # bool is an int and 1 == True: compare the type too
    if not any(type(value) is type(a) and value == a for a in allowed):
        raise ConfigError(
            problem=f"{describe_found(value)} is not allowed", allowed=_quoted(allowed)
        )
    return value


def _is_enum(t: object) -> bool:
    return isinstance(t, type) and issubclass(t, enum.Enum)


def _enum(value: object, t: type[enum.Enum]) -> enum.Enum:
    for member in t:
        if type(value) is type(member.value) and value == member.value:
            return member
    label = " ".join(part.lower() for part in _words(t.__name__))
    raise ConfigError(
        problem=f"unknown {label} {describe_found(value)}",
        allowed=_quoted(m.value for m in t),
    )


def _or_enum(hook: Callable[[object, Any], object]) -> Callable[[object, Any], object]:
    def structure(value: object, t: Any) -> object:
        return _enum(value, t) if _is_enum(t) else hook(value, t)

    return structure


def _words(name: str) -> list[str]:
    words: list[str] = []
    for char in name:
        if char.isupper() or not words:
            words.append(char)
        else:
            words[-1] += char
    return words


# --- containers: refuse the wrong shape, then locate each element's problem ------------


def with_note(exc: Exception, note: str) -> Exception:
    """``exc`` with ``note`` added, the way cattrs marks where an error happened."""
    # BaseException.add_note is Python 3.11+; cattrs reads __notes__ on every version
    object.__setattr__(exc, "__notes__", [*getattr(exc, "__notes__", []), note])
    return exc


def _is_sequence(t: object) -> bool:
    origin = typing.get_origin(t)
    if origin is tuple:
        args = typing.get_args(t)
        return len(args) == 2 and args[1] is Ellipsis  # tuple[X, ...], not a fixed-size one
    return origin in (list, frozenset, set, typing.Sequence, collections.abc.Sequence)


def _sequence_factory(converter: cattrs.Converter) -> Callable[[Any], Callable[[object, Any], Any]]:
    # cattrs' own list hook (it notes each element's index), behind a shape check: a string
    # is not an array of its letters
    def factory(t: Any) -> Callable[[object, Any], Any]:
        elements = list_structure_factory(t, converter)
        origin = typing.get_origin(t)
        build = origin if origin in (tuple, frozenset, set) else list

        def structure(value: object, _: object) -> Any:
            if not isinstance(value, list):
                raise _expected("an array", value)
            return build(elements(value, t))

        return structure

    return factory


def _is_mapping(t: object) -> bool:
    return typing.get_origin(t) in (dict, Mapping, typing.Mapping)


def _mapping_factory(converter: cattrs.Converter) -> Callable[[Any], Callable[[object, Any], Any]]:
    # cattrs' own mapping hook (it notes each key), behind a shape check; read-only unless
    # the annotation asks for a dict. The keys are checked first: cattrs skips a key whose
    # value failed, and an unknown key (a proxy scheme) says more than its value's problem
    def factory(t: Any) -> Callable[[object, Any], Any]:
        items = make_mapping_structure_fn(t, converter, detailed_validation=True)
        key_type = typing.get_args(t)[0]
        frozen = typing.get_origin(t) is not dict

        def structure(value: object, _: object) -> Any:
            if not isinstance(value, dict):
                raise _expected("a table", value)
            errors = []
            for key in value:
                try:
                    converter.structure(key, key_type)
                except Exception as exc:  # every key's problem is collected
                    errors.append(with_note(exc, IterableValidationNote("key", key, key_type)))
            if errors:
                raise IterableValidationError("while structuring a table's keys", errors, t)
            out = items(value, t)
            return MappingProxyType(out) if frozen else out

        return structure

    return factory


def _attrs_factory(converter: cattrs.Converter) -> Callable[[type], Callable[[object, Any], Any]]:
    def factory(cls: type) -> Callable[[object, Any], Any]:
        renames: dict[str, Any] = {
            name: override(rename=key) for name, key in _RENAMES.get(cls, {}).items()
        }
        inner: Any = make_dict_structure_fn(
            cls,
            converter,
            _cattrs_forbid_extra_keys=True,
            _cattrs_detailed_validation=True,
            **renames,
        )

        def structure(value: object, t: Any) -> Any:
            if not isinstance(value, dict):
                raise _expected("a table", value)
            return inner(value, t)

        return structure

    return factory


def _is(exact: object) -> Callable[[Any], bool]:
    def predicate(t: Any) -> bool:
        return t is exact

    return predicate


def make_config_converter() -> cattrs.Converter:
    """A converter that structures plain TOML values strictly (see the module docstring)."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook_factory(attrs.has, _attrs_factory(converter))
    converter.register_structure_hook_factory(_is_mapping, _mapping_factory(converter))
    converter.register_structure_hook_factory(_is_sequence, _sequence_factory(converter))
    converter.register_structure_hook_func(_is_literal, _literal)
    # any value (a setting's, checked by its registry entry); not a singledispatch on object,
    # which every class would match
    converter.register_structure_hook_func(_is(object), _any)
    # cattrs looks hooks for classes up by singledispatch before any predicate, so the
    # scalar classes are registered that way; a str- or int-valued enum is found through
    # its str or int base and sent on to the enum hook
    for cls, hook in ((str, _str), (bool, _bool), (int, _int), (float, _float)):
        converter.register_structure_hook(cls, _or_enum(hook))
    converter.register_structure_hook(enum.Enum, _enum)
    converter.register_structure_hook(datetime, _datetime)
    new_types: tuple[tuple[object, Callable[[object, Any], str]], ...] = (
        (NonEmptyStr, _non_empty),
        (HttpsUrl, _https_url),
        (ProxyUrl, _proxy_url),
    )
    for new_type, check in new_types:
        converter.register_structure_hook_func(_is(new_type), check)
    return converter


_DESCRIPTIONS: Mapping[object, str] = {
    str: "a string",
    NonEmptyStr: "a non-empty string",
    HttpsUrl: "an https:// URL",
    ProxyUrl: "a proxy URL",
    bool: "true | false",
    int: "an integer",
    float: "a number",
}


def describe_type(t: object) -> str:
    """What a value of type ``t`` looks like in the file, for the configuration reference.

    Args:
        t: a table attribute's type (``NonEmptyStr | None``, a ``Literal``, an enum, ...).

    Returns:
        A phrase such as ``a non-empty string``, ``"table", "ire"`` or ``an array of ...``.
    """
    args = [a for a in typing.get_args(t) if a is not type(None)]
    if typing.get_origin(t) in (typing.Union, types.UnionType) and len(args) == 1:
        return describe_type(args[0])
    if _is_literal(t):
        return _quoted(typing.get_args(t))
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return _quoted(m.value for m in t)
    if _is_sequence(t):
        item = describe_type(args[0])
        if item.startswith('"'):
            return f"an array of {item}"
        return f"an array of {item.removeprefix('a ').removeprefix('an ')}s"
    if _is_mapping(t) or (isinstance(t, type) and attrs.has(t)):
        return "a table"
    return _DESCRIPTIONS.get(t, getattr(t, "__name__", str(t)))


# --- cattrs' error tree -> the one error to report ----------------------------------------


@attrs.frozen
class _Leaf:
    path: tuple[Part, ...]
    error: ConfigError


def _last_note(exc: BaseException, kind: type[_T]) -> _T | None:
    notes = [n for n in getattr(exc, "__notes__", ()) if type(n) is kind]
    return notes[-1] if notes else None


def _join(path: tuple[Part, ...], key: str | None) -> str:
    base = dotted(path)
    if not key:
        return base
    return f"{base}.{key}" if base else key


def _leaves(
    exc: BaseException, path: tuple[Part, ...], unknown: UnknownKeyHook | None
) -> Iterator[_Leaf]:
    if isinstance(exc, ClassValidationError):
        for sub in exc.exceptions:
            attr = _last_note(sub, AttributeValidationNote)
            if isinstance(sub, ForbiddenExtraKeysError):
                for name in sorted(sub.extra_fields):
                    where = (*path, name)
                    error = unknown(where) if unknown else None
                    listed = ", ".join(sorted(toml_keys(exc.cl)))
                    yield _Leaf(where, error or ConfigError(problem="unknown key", allowed=listed))
            elif attr is not None and isinstance(sub, KeyError) and not sub.__cause__:
                where = (*path, _key_of(exc.cl, attr.name))
                listed = ", ".join(toml_keys(exc.cl))
                yield _Leaf(where, ConfigError(problem="is required", allowed=listed))
            elif attr is not None:
                yield from _leaves(sub, (*path, _key_of(exc.cl, attr.name)), unknown)
            else:
                yield from _leaves(sub, path, unknown)
    elif isinstance(exc, IterableValidationError):
        for sub in exc.exceptions:
            item = _last_note(sub, IterableValidationNote)
            yield from _leaves(sub, path if item is None else (*path, item.index), unknown)
    elif isinstance(exc, ConfigError):
        yield _Leaf(path, exc)
    else:
        yield _Leaf(path, ConfigError(problem=str(exc) or type(exc).__name__))


def structure_config(
    data: Mapping[str, object],
    cls: type[_T],
    *,
    file: str,
    text: str,
    converter: cattrs.Converter | None = None,
    unknown: UnknownKeyHook | None = None,
) -> _T:
    """Structure a file's plain values into ``cls``, or raise the file's first problem.

    Args:
        data: the parsed file (plain dicts, lists and scalars).
        cls: the attrs class of the whole document.
        file: the file's path, named in the error.
        text: the file's text, to find the line of the key in error.
        converter: the converter to use (default: a :func:`make_config_converter`).
        unknown: reports an unknown key in another way than "unknown key".

    Raises:
        ConfigError: naming the file, the line, the dotted key, the problem and
            the values allowed; of several problems, the one nearest the top of the file.
    """
    try:
        return (converter or _CONVERTER).structure(data, cls)
    except (cattrs.BaseValidationError, ConfigError) as exc:
        leaves = list(_leaves(exc, (), unknown))
    lines = key_lines(text)
    located = []
    for order, leaf in enumerate(leaves):
        key = _join(leaf.path, leaf.error.key)
        line = line_of(lines, key) if key else None
        located.append((line if line is not None else math.inf, order, key, leaf.error))
    _, _, key, error = min(located, key=lambda item: (item[0], item[1]))
    line = line_of(lines, key) if key else None
    raise ConfigError(
        file=file, line=line, key=key or None, problem=error.problem, allowed=error.allowed
    ) from None


_CONVERTER = make_config_converter()
