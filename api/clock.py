"""The service's clock: UTC instants for records, and the bank's business date (China Standard Time).

An assessment valid "until 5 January" stops being valid at midnight in Beijing, not in London, and a
purchase made at 00:30 Beijing time is dated that day: every date rule in the API uses `business_today`.
China has no daylight saving, so a fixed UTC+8 offset is exact (no tz database needed).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BUSINESS_TZ = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    return datetime.now(UTC)


def business_today() -> date:
    """Today's date in the bank's time zone (UTC+8)."""
    return datetime.now(BUSINESS_TZ).date()
