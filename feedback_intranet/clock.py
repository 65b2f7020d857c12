"""The current time, injectable through the CLOCK setting so tests never sleep."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now():
    """An aware datetime in UTC."""
    clock = current_app.config.get("CLOCK")
    return (clock() if clock else datetime.now(UTC)).astimezone(UTC)


def timezone():
    return ZoneInfo(current_app.config["TIMEZONE"])


def today():
    """Today's date in the bank's time zone."""
    return now().astimezone(timezone()).date()
