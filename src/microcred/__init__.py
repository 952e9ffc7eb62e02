"""microcred: issue, hold, verify and stack Open Badges 3.0 microcredentials."""

__version__ = "0.1.0"
