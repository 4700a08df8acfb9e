"""Zones: how an aware datetime's zone maps to the fields of an Elixir `DateTime`.

A zone crosses by its tz database name where it has one (`ZoneInfo`, and in value mode
any tzinfo that names one that agrees), else as a fixed offset named like a
`datetime.timezone`'s (`"UTC+02:00"`), which `FIXED_ZONE` recognises coming back.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["FIXED_ZONE", "any_zone_fields", "fixed_zone_name", "seconds_of", "zone_fields"]

# A DateTime whose zone is a fixed offset with no tz database name: what Python's
# `datetime.timezone` holds. The name is the default `tzname()` of such a timezone.
FIXED_ZONE = re.compile(r"UTC[+-]\d\d:\d\d(:\d\d)?")


def seconds_of(delta: dt.timedelta) -> int | None:
    """Whole seconds of `delta`, or None if it has a fraction of a second."""
    if delta.microseconds:
        return None
    return delta.days * 86400 + delta.seconds


def fixed_zone_name(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def zone_fields(obj: dt.datetime) -> tuple[str, str, int, int] | None:
    """(time_zone, zone_abbr, utc_offset, std_offset) of an aware datetime, or None if
    Elixir cannot hold its zone."""
    tzinfo = obj.tzinfo
    if tzinfo is dt.UTC:
        return "Etc/UTC", "UTC", 0, 0
    offset = obj.utcoffset()
    abbr = obj.tzname()
    if offset is None or abbr is None:
        return None
    if type(tzinfo) is dt.timezone:
        seconds = seconds_of(offset)
        if seconds is None:
            return None
        return fixed_zone_name(seconds), abbr, seconds, 0
    if type(tzinfo) is ZoneInfo and tzinfo.key:
        dst = obj.dst() or dt.timedelta(0)
        standard, daylight = seconds_of(offset - dst), seconds_of(dst)
        if standard is None or daylight is None:
            return None
        return tzinfo.key, abbr, standard, daylight
    return None


_ZONE_DIR = "zoneinfo/"


def _iana_name(tzinfo: dt.tzinfo) -> str | None:
    """The tz database name a foreign tzinfo says it stands for, if any: pytz's `zone`,
    a ZoneInfo subclass's `key`, a dateutil tzfile's file name."""
    for attr in ("key", "zone", "_filename"):
        name = getattr(tzinfo, attr, None)
        if isinstance(name, str) and name:
            return name.rpartition(_ZONE_DIR)[2] if _ZONE_DIR in name else name
    return None


def any_zone_fields(obj: dt.datetime) -> tuple[str, str, int, int] | None:
    """Like `zone_fields`, for any tzinfo (dateutil's, pytz's, pandas'): its tz database name
    where it has one that gives the same offset at this instant, else a fixed offset
    named like a `datetime.timezone`'s (a zero offset named UTC is Etc/UTC). None only
    for an offset with a fraction of a second, which Elixir's DateTime cannot hold."""
    zone = zone_fields(obj)
    if zone is not None:
        return zone
    offset = obj.utcoffset()
    seconds = None if offset is None else seconds_of(offset)
    if seconds is None:
        return None
    name = _iana_name(obj.tzinfo) if obj.tzinfo is not None else None
    if name is not None:
        try:
            named = obj.replace(tzinfo=ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            if named.utcoffset() == offset:
                return zone_fields(named)
    abbr = obj.tzname()
    if seconds == 0 and abbr == "UTC":  # dateutil's tzutc, pendulum's UTC, ...
        return "Etc/UTC", "UTC", 0, 0
    fixed = fixed_zone_name(seconds)
    return fixed, abbr or fixed, seconds, 0
