"""Parsing shared by the CLI commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from microcred.errors import InputError, UsageError
from microcred.standards.dates import parse_datetime


def instant(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 option value, or a usage error naming the option."""
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except InputError as exc:
        raise UsageError(f"{option}: {exc.message}") from exc


# Plain help (click's own formatting): rich help would import rich on every `--help`, tripling its cost.
TYPER: dict[str, Any] = {"add_completion": False, "rich_markup_mode": None, "pretty_exceptions_enable": False}
