"""Waits between attempts at Amazon: the sync's and the outbox's retries share them."""

import random

from django.conf import settings


def backoff_seconds(attempt: int, *, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter, from AMAZON_RETRY_BASE_SECONDS."""
    ceiling = min(cap, settings.AMAZON_RETRY_BASE_SECONDS * (2**attempt))
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security


def throttle_backoff_seconds(interval: float, *, attempt: int, cap: float = 300.0) -> float:
    """The wait after Amazon's 429: its bucket refills one token per `interval`, so the first
    429 waits about one interval; another 429 in a row means Amazon lowered our limit (dynamic
    usage plans), so each waits twice as long, with jitter, up to `cap` (or one interval when
    that is longer)."""
    jittered = interval * (2 ** (attempt - 1)) * random.uniform(1.0, 1.2)  # noqa: S311
    return min(jittered, max(cap, interval))
