"""ServiceNow date-time values: query literals, ``javascript:gs.*`` date helpers, time zones.

An instance stores date-times as ``YYYY-MM-DD HH:MM:SS`` in UTC and shows them,
as display values, in the requesting user's time zone (``sys_user.time_zone``,
else the system default). Encoded queries compare stored values, so the
``javascript:gs.*`` helpers return UTC ``YYYY-MM-DD HH:MM:SS`` strings computed
in the user's time zone, as GlideSystem documents them (``gs.daysAgoStart(0)``
is the user's midnight today, in UTC).

Only the helpers below are evaluated; any other ``javascript:`` value raises
:class:`UnsupportedValue` so the query is refused rather than widened.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DATE_TYPES",
    "HELPERS",
    "UnsupportedValue",
    "evaluate_script",
    "from_display",
    "is_utc",
    "literal",
    "time_zone",
    "to_display",
]

#: column types holding dates or date-times.
DATE_TYPES = frozenset({"glide_date_time", "glide_date", "due_date"})
_FORMAT = "%Y-%m-%d %H:%M:%S"
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CALL = re.compile(r"javascript:\s*gs\.(\w+)\(\s*(.*?)\s*\)\s*;?\s*", re.DOTALL)
_ARG = re.compile(r"""\s*(-?\d+|'[^']*'|"[^"]*")\s*(?:,|$)""")


class UnsupportedValue(Exception):
    """A value the sandbox cannot evaluate; the message says why."""


@functools.lru_cache(maxsize=256)
def time_zone(name: str | None, default: str = "UTC") -> tzinfo:
    """The ``ZoneInfo`` for a ``sys_user.time_zone`` value (blank or unknown: ``default``)."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return timezone.utc


def literal(value: str, kind: str) -> str:
    """A date or date-time literal in the stored form; UnsupportedValue if not one.

    ``YYYY-MM-DD HH:MM:SS`` and ``YYYY-MM-DD`` are accepted (both compare as
    text, as the stored values do); a ``glide_date`` column compares on the date.
    """
    if _DATE_TIME.fullmatch(value) or _DATE.fullmatch(value):
        try:
            datetime.strptime(value[:10], "%Y-%m-%d")
        except ValueError:
            raise UnsupportedValue(f"{value!r} is not a valid date") from None
        return value[:10] if kind == "glide_date" else value
    raise UnsupportedValue(
        f"{value!r} is not a date in the sandbox's formats (YYYY-MM-DD [HH:MM:SS])"
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(_FORMAT)


def _day(day: date, at: time, tz: tzinfo) -> str:
    return _utc(datetime.combine(day, at, tzinfo=tz))


_START, _END = time(0, 0, 0), time(23, 59, 59)


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _month_end(day: date, months_back: int) -> date:
    return _month_start(day, months_back - 1) - timedelta(days=1)


def _quarter_start(day: date, quarters_back: int) -> date:
    first = _month_start(day, (day.month - 1) % 3)
    return _month_start(first, 3 * quarters_back)


def _add_months(moment: datetime, months_back: int) -> datetime:
    start = _month_start(moment.date(), months_back)
    end = _month_end(moment.date(), months_back)
    return moment.replace(year=start.year, month=start.month, day=min(moment.day, end.day))


Helper = Callable[[datetime, tzinfo, list[int | str]], str]


def _n(args: list[int | str], default: int = 0) -> int:
    if not args:
        return default
    if len(args) != 1 or not isinstance(args[0], int):
        raise UnsupportedValue("expects one whole number")
    return args[0]


def _none(args: list[int | str]) -> None:
    if args:
        raise UnsupportedValue("takes no argument")


def _local(now: datetime, tz: tzinfo) -> datetime:
    return now.astimezone(tz)


def _days(offset: int, at: time) -> Helper:
    def helper(now: datetime, tz: tzinfo, args: list[int | str]) -> str:
        _none(args)
        return _day(_local(now, tz).date() - timedelta(days=offset), at, tz)

    return helper


def _week(offset: int, end: bool) -> Helper:
    def helper(now: datetime, tz: tzinfo, args: list[int | str]) -> str:
        _none(args)
        today = _local(now, tz).date()
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
        return _day(monday + timedelta(days=6), _END, tz) if end else _day(monday, _START, tz)

    return helper


def _month(offset: int, end: bool) -> Helper:
    def helper(now: datetime, tz: tzinfo, args: list[int | str]) -> str:
        _none(args)
        today = _local(now, tz).date()
        if end:
            return _day(_month_end(today, -offset), _END, tz)
        return _day(_month_start(today, -offset), _START, tz)

    return helper


def _quarter(offset: int, end: bool) -> Helper:
    def helper(now: datetime, tz: tzinfo, args: list[int | str]) -> str:
        n = -offset if offset else _n(args)
        if offset:
            _none(args)
        today = _local(now, tz).date()
        start = _quarter_start(today, n)
        if end:
            return _day(_month_end(start, -2), _END, tz)
        return _day(start, _START, tz)

    return helper


def _year(offset: int, end: bool) -> Helper:
    def helper(now: datetime, tz: tzinfo, args: list[int | str]) -> str:
        _none(args)
        year = _local(now, tz).year + offset
        return _day(date(year, 12, 31), _END, tz) if end else _day(date(year, 1, 1), _START, tz)

    return helper


def _ago(unit: str, part: str) -> Helper:
    def helper(now: datetime, tz: tzinfo, args: list[int | str]) -> str:
        n = _n(args)
        local = _local(now, tz)
        if unit == "days":
            day = local.date() - timedelta(days=n)
            if part == "start":
                return _day(day, _START, tz)
            if part == "end":
                return _day(day, _END, tz)
            return _utc(local - timedelta(days=n))
        if unit == "months":
            if part == "start":
                return _day(_month_start(local.date(), n), _START, tz)
            if part == "end":
                return _day(_month_end(local.date(), n), _END, tz)
            return _utc(_add_months(local, n))
        if unit == "years":
            return _utc(_add_months(local, 12 * n))
        step = timedelta(hours=n) if unit == "hours" else timedelta(minutes=n)
        moment = local - step
        if unit == "hours":
            start = moment.replace(minute=0, second=0, microsecond=0)
            last = start + timedelta(minutes=59, seconds=59)
        else:
            start = moment.replace(second=0, microsecond=0)
            last = start + timedelta(seconds=59)
        return _utc({"start": start, "end": last}.get(part, moment))

    return helper


def _date_generate(now: datetime, tz: tzinfo, args: list[int | str]) -> str:
    if len(args) != 2 or not all(isinstance(a, str) for a in args):
        raise UnsupportedValue("expects a date and a time (or 'start' / 'end')")
    day_text, at_text = str(args[0]), str(args[1])
    try:
        day = datetime.strptime(day_text, "%Y-%m-%d").date()
        if at_text in ("start", "end"):
            at = _START if at_text == "start" else _END
        else:
            at = datetime.strptime(at_text, "%H:%M:%S").time()
    except ValueError:
        raise UnsupportedValue(f"cannot read the date {day_text!r} / time {at_text!r}") from None
    return _day(day, at, tz)


#: the ``gs.*`` helpers evaluated, by name.
HELPERS: dict[str, Helper] = {
    "beginningOfToday": _days(0, _START),
    "endOfToday": _days(0, _END),
    "beginningOfYesterday": _days(1, _START),
    "endOfYesterday": _days(1, _END),
    "beginningOfTomorrow": _days(-1, _START),
    "endOfTomorrow": _days(-1, _END),
    "beginningOfThisWeek": _week(0, False),
    "endOfThisWeek": _week(0, True),
    "beginningOfLastWeek": _week(-1, False),
    "endOfLastWeek": _week(-1, True),
    "beginningOfNextWeek": _week(1, False),
    "endOfNextWeek": _week(1, True),
    "beginningOfThisMonth": _month(0, False),
    "endOfThisMonth": _month(0, True),
    "beginningOfLastMonth": _month(-1, False),
    "endOfLastMonth": _month(-1, True),
    "beginningOfNextMonth": _month(1, False),
    "endOfNextMonth": _month(1, True),
    "beginningOfThisQuarter": _quarter(0, False),
    "endOfThisQuarter": _quarter(0, True),
    "beginningOfLastQuarter": _quarter(-1, False),
    "endOfLastQuarter": _quarter(-1, True),
    "beginningOfNextQuarter": _quarter(1, False),
    "endOfNextQuarter": _quarter(1, True),
    "quartersAgoStart": _quarter(0, False),
    "quartersAgoEnd": _quarter(0, True),
    "beginningOfThisYear": _year(0, False),
    "endOfThisYear": _year(0, True),
    "beginningOfLastYear": _year(-1, False),
    "endOfLastYear": _year(-1, True),
    "beginningOfNextYear": _year(1, False),
    "endOfNextYear": _year(1, True),
    "daysAgo": _ago("days", ""),
    "daysAgoStart": _ago("days", "start"),
    "daysAgoEnd": _ago("days", "end"),
    "hoursAgo": _ago("hours", ""),
    "hoursAgoStart": _ago("hours", "start"),
    "hoursAgoEnd": _ago("hours", "end"),
    "minutesAgo": _ago("minutes", ""),
    "minutesAgoStart": _ago("minutes", "start"),
    "minutesAgoEnd": _ago("minutes", "end"),
    "monthsAgo": _ago("months", ""),
    "monthsAgoStart": _ago("months", "start"),
    "monthsAgoEnd": _ago("months", "end"),
    "yearsAgo": _ago("years", ""),
    "dateGenerate": _date_generate,
}


def _arguments(text: str) -> list[int | str]:
    args: list[int | str] = []
    position = 0
    while position < len(text):
        match = _ARG.match(text, position)
        if match is None:
            raise UnsupportedValue(f"cannot read the arguments {text!r}")
        token = match.group(1)
        args.append(int(token) if token[0] not in "'\"" else token[1:-1])
        position = match.end()
    return args


def evaluate_script(value: str, now: datetime, tz: tzinfo) -> str:
    """Evaluate a ``javascript:gs.<helper>(...)`` value against ``now`` in time zone ``tz``.

    Raises:
        UnsupportedValue: for any other script, or a helper given bad arguments.
    """
    match = _CALL.fullmatch(value)
    if match is None:
        raise UnsupportedValue(
            "javascript: values other than the gs.* date helpers are not evaluated"
        )
    name, raw_args = match.groups()
    helper = HELPERS.get(name)
    if helper is None:
        raise UnsupportedValue(f"gs.{name}() is not one of the date helpers the sandbox evaluates")
    try:
        return helper(now, tz, _arguments(raw_args))
    except UnsupportedValue as exc:
        raise UnsupportedValue(f"gs.{name}(): {exc}") from None


def is_utc(tz: tzinfo) -> bool:
    """Whether ``tz`` is UTC itself (display values then equal stored values)."""
    return tz is timezone.utc or getattr(tz, "key", None) in ("UTC", "Etc/UTC", "GMT")


def to_display(value: str, kind: str, tz: tzinfo) -> str:
    """A stored UTC date-time as the user sees it (other values and dates unchanged)."""
    if kind != "glide_date_time" or is_utc(tz) or not _DATE_TIME.fullmatch(value):
        return value
    moment = datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return moment.astimezone(tz).strftime(_FORMAT)


def from_display(value: str, kind: str, tz: tzinfo) -> str:
    """A date-time given in the user's time zone, as stored (UTC); others unchanged."""
    if kind != "glide_date_time" or not _DATE_TIME.fullmatch(value):
        return value
    return _utc(datetime.strptime(value, _FORMAT).replace(tzinfo=tz))
