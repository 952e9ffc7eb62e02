"""The few settings the standalone credential commands read, straight from the environment.

`microcred verify` and `microcred sign` need only these; pydantic-settings (config.Settings, which
reads the same variables for the platform) costs about 0.2 s to import, several times their work."""

from __future__ import annotations

import os
from pathlib import Path

from microcred.errors import UsageError

PREFIX = "MICROCRED_"
DEFAULT_DATA_DIR = Path("microcred-data")
# The words pydantic accepts for a boolean, so both readers agree on every value.
_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def value(name: str) -> str | None:
    found = os.environ.get(PREFIX + name.upper())
    return found if found else None


def flag(name: str, default: bool) -> bool:
    found = value(name)
    if found is None:
        return default
    word = found.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise UsageError(f"{PREFIX}{name.upper()}={found!r} is not a boolean (true or false)")


def data_dir() -> Path:
    return Path(value("data_dir") or DEFAULT_DATA_DIR)
