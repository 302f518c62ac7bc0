"""Amazon's usage plans: a token bucket per (seller, operation), in the one sandbox process.

The Procfile runs the sandbox with a single worker process, so a lock around a dict is enough.
A seller's plan is the documented default of the operation unless the seller's `usage_plans`
replace it (Amazon's dynamic usage plans: "Selling partners whose business demands require
higher throughput may receive higher rate and burst values", the usage-plan paragraph of each
operation in the models); the seller row is read with each call, so any process can change it.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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
    "getMarketplaceParticipations": UsagePlan("0.016", 15),
    # notifications_v1.json: every operation "1 | 5".
    "createDestination": UsagePlan("1", 5),
    "getDestinations": UsagePlan("1", 5),
    "getDestination": UsagePlan("1", 5),
    "deleteDestination": UsagePlan("1", 5),
    "createSubscription": UsagePlan("1", 5),
    "getSubscription": UsagePlan("1", 5),
    "getSubscriptionById": UsagePlan("1", 5),
    "deleteSubscriptionById": UsagePlan("1", 5),
}


def usage_plan_for(seller, operation: str) -> UsagePlan:
    """The plan Amazon applies to this seller's operation now: the seller's override of the
    rate and/or burst (`usage_plans`), else the documented default. A malformed override part
    is ignored rather than trusted."""
    default = USAGE_PLANS[operation]
    override = (getattr(seller, "usage_plans", None) or {}).get(operation)
    if not isinstance(override, dict):
        return default
    rate, burst = default.rate, default.burst
    if usage_plan_rate_is_valid(override.get("rate")):
        rate = str(override["rate"]).strip()
    value = override.get("burst")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        burst = value
    return UsagePlan(rate, burst)


def usage_plan_rate_is_valid(rate) -> bool:
    """A rate as Amazon writes it in x-amzn-RateLimit-Limit: a positive decimal number."""
    if not isinstance(rate, str | int | float) or isinstance(rate, bool):
        return False
    try:
        value = Decimal(str(rate).strip())
    except InvalidOperation:
        return False
    return value.is_finite() and value > 0 and math.isfinite(float(value))


class TokenBuckets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        # Seconds from any fixed origin; tests put a hand-driven clock here.
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float, int]] = {}

    def take(
        self,
        *,
        seller_id: str,
        operation: str,
        generation: int = 0,
        plan: UsagePlan | None = None,
    ) -> bool:
        """Spend one token of the seller's bucket for the operation under `plan` (default: the
        documented one); False when it is empty. A new `generation` of the seller starts with
        full buckets; a changed plan applies from the first call that carries it."""
        plan = plan or USAGE_PLANS[operation]
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
