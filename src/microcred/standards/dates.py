"""XML Schema dateTime values as VC Data Model 2.0 uses them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from microcred.errors import InputError

_DATETIME = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def parse_datetime(value: object) -> datetime:
    """Parse an xsd:dateTime; a value without a zone is read as UTC."""
    if not isinstance(value, str) or len(value) > 64:
        raise InputError(f"{value!r} is not an xsd:dateTime string")
    match = _DATETIME.match(value)
    if match is None:
        raise InputError(f"{value!r} is not an xsd:dateTime")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        micro = int((fraction or ".0")[1:7].ljust(6, "0"))
        if hour == "24" and minute == "00" and second == "00":
            base = datetime(int(year), int(month), int(day), tzinfo=UTC) + timedelta(days=1)
        else:
            base = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC)
    except ValueError as exc:
        raise InputError(f"{value!r} is not a valid date and time") from exc
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        base = base.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)
    return base


def format_datetime(value: datetime) -> str:
    """UTC, second precision, `Z` suffix: the form credentials carry."""
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_expiry(value: str) -> datetime:
    """An expiry as people write it: a date (2028-06-30, valid to the end of that day, UTC) or a full
    xsd:dateTime."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise InputError(f"{text!r} is not a calendar date") from exc
        return day.replace(hour=23, minute=59, second=59)
    return parse_datetime(text)
