"""The sandbox's reads: order searches with keyset pagination, feeds, the control page's lists.

Pagination tokens are signed and carry the whole query plus the last (sort key, id) served, so a
page never repeats or skips an order that existed when the search began, even while orders are
updated between pages. A searchOrders token also carries the parameters of the call that began
the search: Amazon accepts the token only with those parameters again (all but
maxResultsPerPage).
"""

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from seller_central_sandbox.models import (
    FeedProcessingStatus,
    SandboxFeed,
    SandboxOrder,
    SandboxOrderItem,
    SandboxPackage,
    SandboxSeller,
)
from seller_central_sandbox.ratelimit import USAGE_PLANS, usage_plan_for
from seller_central_sandbox.services.sellers import SandboxError

TOKEN_MAX_AGE = timedelta(hours=24)
SAFETY_MARGIN = timedelta(minutes=2)
# Amazon's answer to a next-page call whose other parameters differ from the first call's
# (amzn/selling-partner-api-sdk issue 717; amzn/selling-partner-api-models issue 5144).
PAGINATION_PARAMETERS_DIFFER = (
    "The paginationToken you have submitted is not valid. All parameters must match the "
    "original request except maxResultsPerPage."
)


@dataclass
class OrderQuery:
    mode: str  # "created", "updated" or "ids"
    after: str = ""
    before: str = ""
    statuses: list[str] = field(default_factory=list)
    fulfilled_by: list[str] = field(default_factory=list)
    marketplace_ids: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    page_size: int = 100
    included: list[str] = field(default_factory=list)
    cursor: list | None = None
    # The first call's parameters, normalised (searchOrders): a next page must repeat them.
    parameters: dict = field(default_factory=dict)


def parse_timestamp(value: str, name: str) -> datetime:
    moment = parse_datetime(value) if value else None
    if moment is None:
        raise SandboxError(f"{name} must be an ISO 8601 date-time, not '{value}'.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def amazon_now(seller: SandboxSeller) -> datetime:
    """The time by Amazon's clock, which runs `clock_offset_seconds` ahead of the caller's
    (behind when negative): real clocks differ by seconds, and Amazon judges by its own."""
    return timezone.now() + timedelta(seconds=seller.clock_offset_seconds)


def checked_window(
    *,
    after_value: str,
    before_value: str | None,
    after_name: str,
    before_name: str,
    now: datetime | None = None,
) -> tuple[datetime, datetime]:
    """Amazon's rules for a search window: the end at least two minutes before the time of the
    request by Amazon's clock, `now` (orders_2026-01-01.json, createdBefore and
    lastUpdatedBefore; the default end is now - 2 min), and not before the start. Raises
    SandboxError (400 InvalidInput)."""
    latest = (now or timezone.now()) - SAFETY_MARGIN
    after = parse_timestamp(after_value, after_name)
    if before_value:
        before = parse_timestamp(before_value, before_name)
        if before > latest:
            raise SandboxError(
                f"{before_name} must be a date at least two minutes before the time of the request."
            )
    else:
        before = latest
    if after > before:
        raise SandboxError(
            f"{after_name} must be before {before_name} and at least two minutes before the time "
            "of the request."
        )
    return after, before


def encode_token(kind: str, payload: dict) -> str:
    return signing.dumps(payload, salt=f"seller_central_sandbox.{kind}", compress=True)


def decode_token(kind: str, token: str) -> dict:
    try:
        return signing.loads(
            token, salt=f"seller_central_sandbox.{kind}", max_age=TOKEN_MAX_AGE.total_seconds()
        )
    except signing.SignatureExpired as error:
        raise SandboxError("The pagination token has expired.") from error
    except signing.BadSignature as error:
        raise SandboxError("The pagination token is not valid.") from error


def orders_with_details(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related(
        Prefetch("items", queryset=SandboxOrderItem.objects.order_by("pk")),
        Prefetch("packages", queryset=SandboxPackage.objects.order_by("pk")),
    )


def order_search(
    *, seller: SandboxSeller, query: OrderQuery
) -> tuple[list[SandboxOrder], OrderQuery | None]:
    """One page of orders and the query of the next page (None on the last page)."""
    orders = SandboxOrder.objects.filter(seller=seller)
    sort_field = "last_updated_time" if query.mode == "updated" else "created_time"
    if query.mode == "ids":
        orders = orders.filter(order_id__in=query.order_ids)
    else:
        orders = orders.filter(
            **{
                f"{sort_field}__gte": parse_datetime(query.after),
                f"{sort_field}__lte": parse_datetime(query.before),
            }
        )
    if query.statuses:
        orders = orders.filter(status__in=query.statuses)
    if query.fulfilled_by:
        orders = orders.filter(fulfilled_by__in=query.fulfilled_by)
    if query.marketplace_ids:
        orders = orders.filter(marketplace_id__in=query.marketplace_ids)
    if query.cursor:
        last_key, last_pk = parse_datetime(query.cursor[0]), query.cursor[1]
        orders = orders.filter(
            Q(**{f"{sort_field}__gt": last_key}) | Q(**{sort_field: last_key, "pk__gt": last_pk})
        )
    page = list(orders_with_details(orders.order_by(sort_field, "pk"))[: query.page_size + 1])
    if len(page) <= query.page_size:
        return page, None
    page = page[: query.page_size]
    last = page[-1]
    following = OrderQuery(**{**asdict(query), "cursor": None})
    following.cursor = [getattr(last, sort_field).isoformat(), last.pk]
    return page, following


def order_query_from_token(token: str, kind: str) -> OrderQuery:
    payload = decode_token(kind, token)
    try:
        return OrderQuery(**payload)
    except TypeError as error:
        raise SandboxError("The pagination token is not valid.") from error


def order_query_to_token(query: OrderQuery, kind: str) -> str:
    return encode_token(kind, asdict(query))


def order_get(*, seller: SandboxSeller, order_id: str) -> SandboxOrder:
    order = orders_with_details(SandboxOrder.objects.filter(seller=seller, order_id=order_id))
    found = order.first()
    if found is None:
        raise SandboxError(f"Order {order_id} was not found.", code="NotFound", status=404)
    return found


@dataclass
class FeedQuery:
    feed_types: list[str]
    marketplace_ids: list[str]
    statuses: list[str]
    created_since: str
    created_until: str
    page_size: int
    cursor: list | None = None


def feed_search(
    *, seller: SandboxSeller, query: FeedQuery
) -> tuple[list[SandboxFeed], FeedQuery | None]:
    feeds = SandboxFeed.objects.filter(
        seller=seller,
        feed_type__in=query.feed_types,
        created_time__gte=parse_datetime(query.created_since),
        created_time__lte=parse_datetime(query.created_until),
    )
    if query.statuses:
        feeds = feeds.filter(processing_status__in=query.statuses)
    if query.cursor:
        last_key, last_pk = parse_datetime(query.cursor[0]), query.cursor[1]
        feeds = feeds.filter(
            Q(created_time__lt=last_key) | Q(created_time=last_key, pk__lt=last_pk)
        )
    candidates = feeds.select_related("result_document").order_by("-created_time", "-pk")
    page = []
    last = None
    # Marketplace lists live in JSON: filter them here, portable across SQLite and PostgreSQL.
    for feed in candidates.iterator(chunk_size=200):
        if query.marketplace_ids and not set(feed.marketplace_ids) & set(query.marketplace_ids):
            continue
        if len(page) == query.page_size:
            following = FeedQuery(**{**asdict(query), "cursor": None})
            following.cursor = [last.created_time.isoformat(), last.pk]
            return page, following
        page.append(feed)
        last = feed
    return page, None


def feeds_unfinished(*, seller: SandboxSeller) -> list[str]:
    return list(
        SandboxFeed.objects.filter(
            seller=seller,
            processing_status__in=[FeedProcessingStatus.IN_QUEUE, FeedProcessingStatus.IN_PROGRESS],
        ).values_list("feed_id", flat=True)
    )


def sellers_for_control_page() -> QuerySet:
    return SandboxSeller.objects.order_by("seller_id")


def usage_plans_for_control_page(*, seller: SandboxSeller) -> list[tuple[str, str, int, bool]]:
    """Each operation's plan as the API applies it to the seller (usage_plan_for): operation,
    rate, burst, and whether the seller's plan replaces the documented one."""
    changed = seller.usage_plans or {}
    plans = [(operation, usage_plan_for(seller, operation)) for operation in sorted(USAGE_PLANS)]
    return [(operation, plan.rate, plan.burst, operation in changed) for operation, plan in plans]


def orders_for_control_page(*, seller: SandboxSeller, limit: int = 100) -> list[SandboxOrder]:
    return list(
        SandboxOrder.objects.filter(seller=seller)
        .prefetch_related("items")
        .order_by("-created_time", "-pk")[:limit]
    )
