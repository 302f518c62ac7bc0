"""Amazon's usage plans: a token bucket per (seller, operation), in the one sandbox process.

The Procfile runs the sandbox with a single worker process, so a lock around a dict is enough.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class UsagePlan:
    rate: str  # requests per second, as Amazon writes it in x-amzn-RateLimit-Limit
    burst: int


# The documented default of each operation (the models' usage-plan tables).
USAGE_PLANS = {
    "searchOrders": UsagePlan("0.0056", 20),
    "getOrder": UsagePlan("0.5", 30),
    "getOrders": UsagePlan("0.0167", 20),
    "getOrderV0": UsagePlan("0.5", 30),
    "getOrderItems": UsagePlan("0.5", 30),
    "getOrderAddress": UsagePlan("0.5", 30),
    "getOrderBuyerInfo": UsagePlan("0.5", 30),
    "confirmShipment": UsagePlan("2", 10),
    "getFeeds": UsagePlan("0.0222", 10),
    "createFeed": UsagePlan("0.0083", 15),
    "cancelFeed": UsagePlan("2", 15),
    "getFeed": UsagePlan("2", 15),
    "createFeedDocument": UsagePlan("0.5", 15),
    "getFeedDocument": UsagePlan("0.0222", 10),
}


class TokenBuckets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        # Seconds from any fixed origin; tests put a hand-driven clock here.
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float, int]] = {}

    def take(self, *, seller_id: str, operation: str, generation: int = 0) -> bool:
        """Spend one token of the seller's bucket for the operation; False when it is empty.
        A new `generation` of the seller starts with full buckets."""
        plan = USAGE_PLANS[operation]
        refill_per_second = float(plan.rate) * float(settings.SANDBOX_TIME_SCALE)
        now = self.clock()
        key = (seller_id, operation)
        with self._lock:
            tokens, updated, known_generation = self._buckets.get(
                key, (plan.burst, now, generation)
            )
            if known_generation != generation:
                tokens = plan.burst
            tokens = min(plan.burst, tokens + (now - updated) * refill_per_second)
            if tokens < 1:
                self._buckets[key] = (tokens, now, generation)
                return False
            self._buckets[key] = (tokens - 1, now, generation)
            return True

    def reset(self, seller_id: str | None = None) -> None:
        with self._lock:
            if seller_id is None:
                self._buckets.clear()
            else:
                for key in [key for key in self._buckets if key[0] == seller_id]:
                    del self._buckets[key]


buckets = TokenBuckets()


def reset_rate_limits(seller_id: str | None = None) -> None:
    """Refill every bucket (of one seller, or all): for tests and the control page."""
    buckets.reset(seller_id)
