"""Phone numbers as logs and banners may show them: only the last four digits."""

from __future__ import annotations


def mask_number(value: str) -> str:
    """'+15551234567' -> '+1******4567'; short codes and names up to 6 characters stay readable
    because they identify a sender, not a person."""
    if len(value) <= 6:
        return value
    prefix = value[:2] if value.startswith("+") else value[:1]
    hidden = len(value) - len(prefix) - 4
    return prefix + "*" * hidden + value[-4:]
