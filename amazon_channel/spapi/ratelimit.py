"""One rate limiter shared by every worker on every machine: token buckets per seller and operation.

Redis holds the buckets in production (one Lua script, Redis's own clock, so the hosts' clocks
don't matter); without Redis (the demo) a database row per bucket does the same under a row lock.
`acquire` never sleeps: it answers how long the caller should wait, and the caller reschedules.

Each limiter also remembers the rate Amazon says it applies to a seller's operation now (the
`x-amzn-RateLimit-Limit` header, dynamic usage plans): every worker then paces at that rate. A
remembered rate lapses after PLAN_TTL_SECONDS without a response confirming it, and the
documented rate applies again.
"""

import math
import time
from datetime import timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from amazon_channel.models import RateLimitBucket, RateLimitPlan

# Amazon sends the header with (almost) every answer, so a live plan is refreshed call by call;
# a day without any answer is long enough to forget it.
PLAN_TTL_SECONDS = 24 * 3600


def plan_rate_parse(value) -> float | None:
    """The requests per second an x-amzn-RateLimit-Limit value states, or None when it states no
    usable rate (absent, not a number, zero, negative or infinite): Amazon's data is hostile."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    try:
        rate = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    if not math.isfinite(rate) or rate <= 0:
        return None
    return rate


BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst / rate) * 1000) + 60000)
return tostring(wait)
"""

# The same refill as BUCKET_LUA, read-only: how long until a token is due, nothing taken.
BUCKET_PEEK_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then
  return '0'
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens >= 1 then
  return '0'
end
return tostring((1 - tokens) / rate)
"""


def refill(tokens: float, elapsed: float, *, rate: float, burst: int) -> float:
    return min(float(burst), tokens + max(0.0, elapsed) * rate)


class RedisRateLimiter:
    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.script = self.client.register_script(BUCKET_LUA)
        self.peek_script = self.client.register_script(BUCKET_PEEK_LUA)

    def acquire(self, key: str, *, rate: float, burst: int) -> float:
        """Take one token; 0.0 when granted, else the seconds until one is due (nothing taken)."""
        return float(self.script(keys=[f"amazon-rate:{key}"], args=[rate, burst]))

    def token_wait(self, key: str, *, rate: float, burst: int) -> float:
        """Seconds until `acquire` would grant a token (0.0: now); takes nothing."""
        return float(self.peek_script(keys=[f"amazon-rate:{key}"], args=[rate, burst]))

    def reset(self, key: str) -> None:
        self.client.delete(f"amazon-rate:{key}", f"amazon-rate-plan:{key}")

    def rate_remember(self, key: str, rate: float) -> None:
        """Keep the rate Amazon stated for this bucket, for every worker, for PLAN_TTL_SECONDS."""
        self.client.set(f"amazon-rate-plan:{key}", repr(float(rate)), ex=PLAN_TTL_SECONDS)

    def rate_learned(self, key: str) -> float | None:
        """The rate Amazon last stated for this bucket, or None (then the documented one holds)."""
        return plan_rate_parse(self.client.get(f"amazon-rate-plan:{key}") or "")


class DatabaseRateLimiter:
    def acquire(self, key: str, *, rate: float, burst: int) -> float:
        """Take one token; 0.0 when granted, else the seconds until one is due (nothing taken)."""
        now = time.time()
        with transaction.atomic():
            bucket, created = RateLimitBucket.objects.select_for_update().get_or_create(
                key=key, defaults={"tokens": float(burst) - 1, "updated_at": now}
            )
            if created:
                return 0.0
            tokens = refill(bucket.tokens, now - bucket.updated_at, rate=rate, burst=burst)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            bucket.tokens = tokens - 1 if tokens >= 1 else tokens
            bucket.updated_at = now
            bucket.save(update_fields=["tokens", "updated_at"])
        return wait

    def token_wait(self, key: str, *, rate: float, burst: int) -> float:
        """Seconds until `acquire` would grant a token (0.0: now); takes nothing."""
        bucket = RateLimitBucket.objects.filter(key=key).first()
        if bucket is None:
            return 0.0
        tokens = refill(bucket.tokens, time.time() - bucket.updated_at, rate=rate, burst=burst)
        return 0.0 if tokens >= 1 else (1 - tokens) / rate

    def reset(self, key: str) -> None:
        RateLimitBucket.objects.filter(key=key).delete()
        RateLimitPlan.objects.filter(key=key).delete()

    def rate_remember(self, key: str, rate: float) -> None:
        """Keep the rate Amazon stated for this bucket, for every worker, for PLAN_TTL_SECONDS."""
        RateLimitPlan.objects.update_or_create(key=key, defaults={"rate": float(rate)})

    def rate_learned(self, key: str) -> float | None:
        """The rate Amazon last stated for this bucket, or None (then the documented one holds)."""
        fresh_since = timezone.now() - timedelta(seconds=PLAN_TTL_SECONDS)
        rate = (
            RateLimitPlan.objects.filter(key=key, updated_at__gte=fresh_since)
            .values_list("rate", flat=True)
            .first()
        )
        return plan_rate_parse(rate) if rate is not None else None


@lru_cache(maxsize=2)
def _limiter_for(redis_url: str):
    return RedisRateLimiter(redis_url) if redis_url else DatabaseRateLimiter()


def get_rate_limiter() -> RedisRateLimiter | DatabaseRateLimiter:
    return _limiter_for(settings.REDIS_URL)
