"""Sellers, their Login with Amazon credentials, access tokens and injected faults."""

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from seller_central_sandbox.catalog import DEFAULT_MARKETPLACE_ID, MARKETPLACES
from seller_central_sandbox.models import (
    ResultCompression,
    SandboxAccessToken,
    SandboxApplicationToken,
    SandboxSeller,
    SellerRole,
)
from seller_central_sandbox.ratelimit import USAGE_PLANS, usage_plan_rate_is_valid

ACCESS_TOKEN_LIFETIME = timedelta(seconds=3600)


class SandboxError(Exception):
    """A request the sandbox refuses, with the code and message Amazon would send."""

    def __init__(
        self, message: str, *, code: str = "InvalidInput", status: int = 400, details: str = ""
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details


class TokenGrantError(Exception):
    """A Login with Amazon refusal: `{error, error_description}` with a non-200 status."""

    def __init__(self, error: str, description: str, *, status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def seller_create(
    *,
    seller_id: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    marketplace_ids: list[str] | None = None,
    name: str = "",
) -> SandboxSeller:
    """Create or update a seller's credentials; raises SandboxError on an unknown marketplace
    or a refresh token that belongs to another seller."""
    marketplace_ids = list(marketplace_ids or [DEFAULT_MARKETPLACE_ID])
    unknown = [value for value in marketplace_ids if value not in MARKETPLACES]
    if unknown:
        raise SandboxError(f"Unknown marketplace ids: {', '.join(unknown)}")
    try:
        with transaction.atomic():
            seller, _ = SandboxSeller.objects.update_or_create(
                seller_id=seller_id,
                defaults={
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "refresh_token": refresh_token,
                    "marketplace_ids": marketplace_ids,
                    "name": name or seller_id,
                    "is_refresh_token_revoked": False,
                },
            )
    except IntegrityError as error:
        # A refresh token names one seller: the unique field update_or_create does not match on.
        raise SandboxError("The refresh token belongs to another seller.") from error
    return seller


def access_token_grant(
    *, grant_type: str, refresh_token: str, client_id: str, client_secret: str
) -> SandboxAccessToken:
    """The refresh-token grant of POST /auth/o2/token; raises TokenGrantError as LWA answers."""
    if not grant_type or not refresh_token or not client_id or not client_secret:
        raise TokenGrantError("invalid_request", "The request is missing a required parameter")
    if grant_type != "refresh_token":
        raise TokenGrantError(
            "unsupported_grant_type", "The authorization grant type is not supported"
        )
    seller = SandboxSeller.objects.filter(client_id=client_id).first()
    if seller is None or not secrets.compare_digest(seller.client_secret, client_secret):
        raise TokenGrantError("invalid_client", "Client authentication failed", status=401)
    seller = SandboxSeller.objects.filter(client_id=client_id, refresh_token=refresh_token).first()
    if seller is None or seller.is_refresh_token_revoked:
        raise TokenGrantError(
            "invalid_grant", "The request has an invalid grant parameter : refresh_token"
        )
    return SandboxAccessToken.objects.create(
        seller=seller,
        token="Atza|" + secrets.token_urlsafe(48),
        expires_at=timezone.now() + ACCESS_TOKEN_LIFETIME,
    )


# The scopes of Login with Amazon's client_credentials grant that open grantless operations
# (developer-docs `grantless-operations`; python-amazon-sp-api's Notifications.grantless_scope).
GRANTLESS_SCOPES = ("sellingpartnerapi::notifications",)


def application_token_grant(
    *, client_id: str, client_secret: str, scope: str
) -> SandboxApplicationToken:
    """The client_credentials grant of POST /auth/o2/token: a token of the application itself,
    for grantless operations, valid an hour like any LWA access token. Raises TokenGrantError
    as LWA answers: invalid_request without a parameter, invalid_client for an unknown client or
    a wrong secret, invalid_scope for a scope that opens no grantless operation."""
    if not client_id or not client_secret or not scope:
        raise TokenGrantError("invalid_request", "The request is missing a required parameter")
    seller = SandboxSeller.objects.filter(client_id=client_id).first()
    if seller is None or not secrets.compare_digest(seller.client_secret, client_secret):
        raise TokenGrantError("invalid_client", "Client authentication failed", status=401)
    if scope not in GRANTLESS_SCOPES:
        raise TokenGrantError("invalid_scope", "The request has an invalid parameter : scope")
    return SandboxApplicationToken.objects.create(
        client_id=client_id,
        token="Atc|" + secrets.token_urlsafe(48),
        scope=scope,
        expires_at=timezone.now() + ACCESS_TOKEN_LIFETIME,
    )


def application_token_authenticate(token: str | None) -> str | None:
    """The client id a grantless x-amz-access-token belongs to, or None when it is no live
    grantless token (it may be a seller's)."""
    if not token:
        return None
    access = SandboxApplicationToken.objects.filter(token=token).first()
    if access is None or access.expires_at <= timezone.now():
        return None
    return access.client_id


def access_token_authenticate(token: str | None) -> SandboxSeller:
    """The seller an API call's x-amz-access-token belongs to; raises SandboxError 403 else."""
    if not token:
        raise SandboxError(
            "Access to requested resource is denied.", code="Unauthorized", status=403
        )
    access = SandboxAccessToken.objects.select_related("seller").filter(token=token).first()
    if access is None or access.is_revoked or access.expires_at <= timezone.now():
        raise SandboxError(
            "Access to requested resource is denied.", code="Unauthorized", status=403
        )
    return access.seller


def seller_access_tokens_expire(*, seller: SandboxSeller) -> int:
    """Make every access token of the seller expired now; returns how many were live."""
    now = timezone.now()
    return SandboxAccessToken.objects.filter(seller=seller, expires_at__gt=now).update(
        expires_at=now
    )


def seller_tokens_revoke(*, seller: SandboxSeller, is_refresh_token_revoked: bool = True) -> int:
    """Revoke the seller's access tokens and, by default, its refresh token (authorization
    withdrawn): API calls then answer 403 and the token endpoint invalid_grant."""
    with transaction.atomic():
        SandboxSeller.objects.filter(pk=seller.pk).update(
            is_refresh_token_revoked=is_refresh_token_revoked
        )
        seller.is_refresh_token_revoked = is_refresh_token_revoked
        return SandboxAccessToken.objects.filter(seller=seller, is_revoked=False).update(
            is_revoked=True
        )


def seller_tokens_restore(*, seller: SandboxSeller) -> None:
    """Authorize the seller's refresh token again (new access tokens can be granted)."""
    SandboxSeller.objects.filter(pk=seller.pk).update(is_refresh_token_revoked=False)
    seller.is_refresh_token_revoked = False


def seller_roles_set(*, seller: SandboxSeller, roles: list[str]) -> SandboxSeller:
    """Set the roles the seller granted this application (SellerRole values, in SellerRole's
    order). From the next call on, the order operations answer 403 without a role that opens
    them, and the buyer's personal data is left out without the restricted role. Raises
    SandboxError on an unknown role."""
    return seller_amazon_behaviour_set(seller=seller, roles=roles)


# Each call of a slowed seller holds a sandbox thread this long: a minute outlasts our request
# timeout (AMAZON_REQUEST_TIMEOUT_SECONDS), which is all a latency drill needs.
MAX_FAULT_LATENCY_MS = 60_000
# Counts of calls or feeds to fail: more than any drill uses, far below the columns' limit.
MAX_FAULT_COUNT = 1_000_000


@dataclass(frozen=True)
class FaultSettings:
    fail_next: int = 0
    fail_status: int = 503
    fail_probability: float = 0.0
    latency_ms: int = 0
    malformed_next: int = 0


def seller_faults_update(*, seller: SandboxSeller, faults: FaultSettings) -> SandboxSeller:
    """Replace the seller's fault-injection settings; raises SandboxError on a bad value (nothing
    is saved then): counts from 0 to MAX_FAULT_COUNT, latency from 0 to MAX_FAULT_LATENCY_MS."""
    if faults.fail_status not in (500, 503):
        raise SandboxError("The failure status must be 500 or 503.")
    if not 0 <= faults.fail_probability <= 1:
        raise SandboxError("The failure probability must be between 0 and 1.")
    counts = (faults.fail_next, faults.malformed_next)
    if not all(isinstance(count, int) and 0 <= count <= MAX_FAULT_COUNT for count in counts):
        raise SandboxError(f"Counts must be whole numbers from 0 to {MAX_FAULT_COUNT}.")
    if not (isinstance(faults.latency_ms, int) and 0 <= faults.latency_ms <= MAX_FAULT_LATENCY_MS):
        raise SandboxError(f"The latency must be from 0 to {MAX_FAULT_LATENCY_MS} ms.")
    seller.fault_fail_next = faults.fail_next
    seller.fault_fail_status = faults.fail_status
    seller.fault_fail_probability = faults.fail_probability
    seller.fault_latency_ms = faults.latency_ms
    seller.fault_malformed_next = faults.malformed_next
    seller.save(
        update_fields=[
            "fault_fail_next",
            "fault_fail_status",
            "fault_fail_probability",
            "fault_latency_ms",
            "fault_malformed_next",
        ]
    )
    return seller


def _consume(seller: SandboxSeller, field_name: str) -> bool:
    # One conditional UPDATE: two concurrent calls never consume the same unit.
    updated = SandboxSeller.objects.filter(pk=seller.pk, **{f"{field_name}__gt": 0}).update(
        **{field_name: F(field_name) - 1}
    )
    return updated == 1


def seller_fault_failure_consume(*, seller: SandboxSeller) -> int | None:
    """The 5xx status this call must answer with, or None."""
    if seller.fault_fail_next and _consume(seller, "fault_fail_next"):
        return seller.fault_fail_status
    probability = seller.fault_fail_probability
    # Fault injection, not cryptography.
    if probability and random.random() < probability:  # noqa: S311
        return seller.fault_fail_status
    return None


def seller_fault_malformed_consume(*, seller: SandboxSeller) -> bool:
    return bool(seller.fault_malformed_next) and _consume(seller, "fault_malformed_next")


def seller_rate_limits_refill(*, seller: SandboxSeller) -> None:
    """Refill every rate-limit bucket of the seller in the sandbox process (which reads the
    generation with each call's token)."""
    SandboxSeller.objects.filter(pk=seller.pk).update(
        rate_limit_generation=F("rate_limit_generation") + 1
    )
    seller.refresh_from_db(fields=["rate_limit_generation"])


# A clock a day off is a broken clock, not a fault worth drilling.
MAX_CLOCK_OFFSET_SECONDS = 24 * 3600


def seller_clock_offset_set(*, seller: SandboxSeller, seconds: int) -> SandboxSeller:
    """Set how far Amazon's clock runs ahead of the caller's (negative: behind), from the next
    call on: searchOrders judges "at least two minutes before the time of the request" by it
    (orders_2026-01-01.json, createdBefore and lastUpdatedBefore), and new orders are placed
    at Amazon's now. Raises SandboxError beyond a day either way."""
    return seller_amazon_behaviour_set(seller=seller, clock_offset_seconds=seconds)


def seller_settings_save(*, seller: SandboxSeller, changes: dict) -> SandboxSeller:
    """Save already checked `changes` ({field: value}) of the seller's settings under its row
    lock, on `seller` too; the seller's other fields stay as another change left them."""
    with transaction.atomic():
        locked = SandboxSeller.objects.select_for_update().get(pk=seller.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
            setattr(seller, name, value)
        locked.save(update_fields=list(changes))
    return seller


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_FAULT_COUNT


def seller_amazon_behaviour_set(
    *,
    seller: SandboxSeller,
    clock_offset_seconds: int | None = None,
    roles: list[str] | None = None,
    result_compression: str | None = None,
    fatal_next: int | None = None,
    fatal_applied: int | None = None,
    has_fatal_report: bool | None = None,
) -> SandboxSeller:
    """How Amazon behaves towards the seller's application, from the next call on; None keeps a
    setting as it is. Its clock (seller_clock_offset_set), the roles the seller granted
    (seller_roles_set, kept in SellerRole's order), how processing reports are compressed, and
    the FATAL fault: the next `fatal_next` feeds end FATAL after applying their first
    `fatal_applied` messages, with a processing report of those when `has_fatal_report`.
    Everything is checked before anything is saved, in one save under the row lock. Raises
    SandboxError on a clock offset beyond a day, an unknown role or compression, or a count
    outside 0..MAX_FAULT_COUNT."""
    changes: dict = {}
    if clock_offset_seconds is not None:
        is_whole = isinstance(clock_offset_seconds, int) and not isinstance(
            clock_offset_seconds, bool
        )
        if not is_whole or abs(clock_offset_seconds) > MAX_CLOCK_OFFSET_SECONDS:
            raise SandboxError("The clock offset must be a whole number of seconds within a day.")
        changes["clock_offset_seconds"] = clock_offset_seconds
    if roles is not None:
        unknown = sorted(set(roles) - set(SellerRole.values))
        if unknown:
            raise SandboxError(f"Unknown roles: {', '.join(unknown)}")
        changes["roles"] = [role for role in SellerRole.values if role in roles]
    if result_compression is not None:
        if result_compression not in ResultCompression.values:
            raise SandboxError(f"Unknown report compression {result_compression!r}.")
        changes["result_compression"] = result_compression
    for name, count in (
        ("fault_feed_fatal_next", fatal_next),
        ("fault_feed_fatal_applied", fatal_applied),
    ):
        if count is not None:
            if not _is_count(count):
                raise SandboxError(f"Counts must be whole numbers from 0 to {MAX_FAULT_COUNT}.")
            changes[name] = count
    if has_fatal_report is not None:
        changes["fault_feed_fatal_report"] = bool(has_fatal_report)
    return seller_settings_save(seller=seller, changes=changes)


# The documented plans this sandbox plays go from 0.0056 to 2 requests a second, bursts up to 30:
# a dynamic plan far beyond them drills nothing.
MIN_USAGE_PLAN_RATE = Decimal("0.0001")
MAX_USAGE_PLAN_RATE = Decimal(1000)
MAX_USAGE_PLAN_BURST = 100_000


def seller_usage_plan_set(
    *, seller: SandboxSeller, operation: str, rate: str | None, burst: int | None
) -> SandboxSeller:
    """Replace the documented usage plan of one of the seller's operations, from the next call
    on, in every process (Amazon's dynamic usage plans): `rate` (requests per second, as
    x-amzn-RateLimit-Limit states it) and `burst`; None keeps the default of that part, and
    both None restores the documented plan. The rate-limit header states the plan in effect.
    Raises SandboxError on an unknown operation, a rate that is not a number from
    MIN_USAGE_PLAN_RATE to MAX_USAGE_PLAN_RATE or a burst outside 1..MAX_USAGE_PLAN_BURST."""
    if operation not in USAGE_PLANS:
        raise SandboxError(f"Unknown operation {operation}.")
    if rate is not None and not (
        usage_plan_rate_is_valid(rate)
        and MIN_USAGE_PLAN_RATE <= Decimal(str(rate).strip()) <= MAX_USAGE_PLAN_RATE
    ):
        raise SandboxError(
            f"The rate must be a number of requests per second from {MIN_USAGE_PLAN_RATE} "
            f"to {MAX_USAGE_PLAN_RATE}."
        )
    is_whole = isinstance(burst, int) and not isinstance(burst, bool)
    if burst is not None and not (is_whole and 1 <= burst <= MAX_USAGE_PLAN_BURST):
        raise SandboxError(f"The burst must be a whole number from 1 to {MAX_USAGE_PLAN_BURST}.")
    override = {}
    if rate is not None:
        override["rate"] = str(rate).strip()
    if burst is not None:
        override["burst"] = burst
    with transaction.atomic():
        # Under the row lock: two changes to different operations both stay.
        locked = SandboxSeller.objects.select_for_update().get(pk=seller.pk)
        plans = dict(locked.usage_plans or {})
        if override:
            plans[operation] = override
        else:
            plans.pop(operation, None)
        locked.usage_plans = plans
        locked.save(update_fields=["usage_plans"])
    seller.usage_plans = plans
    return seller
