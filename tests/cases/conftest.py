"""Fixtures of the case tests: `world` (see district.py)."""

from .district import TODAY, World, world  # noqa: F401
