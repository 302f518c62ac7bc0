"""How long a sync waits after Amazon throttles it or fails."""

import pytest

from amazon_channel.outbox.backoff import throttle_backoff_seconds


@pytest.mark.parametrize("attempt, low, high", [(1, 10, 12), (2, 20, 24), (4, 80, 96)])
def test_each_429_in_a_row_waits_twice_as_long_as_the_last_with_jitter(attempt, low, high):
    waits = {throttle_backoff_seconds(10.0, attempt=attempt) for _ in range(50)}

    assert all(low <= wait <= high for wait in waits)
    assert len(waits) > 1  # jitter: workers throttled together do not come back together


def test_a_429_never_waits_longer_than_the_cap_or_one_refill_interval():
    assert throttle_backoff_seconds(10.0, attempt=20) == 300.0
    # searchOrders refills one token in about 3 minutes: never less than one interval.
    assert 178.5 <= throttle_backoff_seconds(178.5, attempt=1) <= 300.0
    assert throttle_backoff_seconds(400.0, attempt=3) == 400.0
