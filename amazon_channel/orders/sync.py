"""Keeping a store's orders in step with Seller Central.

A sync is a `SyncRun` over a window of last-update times, [watermark - lookback, now - 2 min -
a clock margin], read page by page with searchOrders. Each page is committed with the run's
cursor (Amazon's pagination token and the exact search parameters it was issued for) in the same
transaction, so a worker killed at any point resumes from the last committed page, repeating
those parameters, and a page read twice changes nothing. The store's watermark moves to the
window's end only when the last page is committed. One run per store at a time: a unique
constraint on running runs, and a lease that a dead worker's run loses after a while, so another
worker can resume it. A store that is deactivated or needs reauthorization stops its running
sync before the next page.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from amazon_channel.models import (
    AmazonNotification,
    AmazonOrder,
    NotificationSubscription,
    NotificationType,
    Store,
    SyncRun,
    SyncState,
)
from amazon_channel.notes import note_english
from amazon_channel.orders.commerce_import import commerce_orders_follow
from amazon_channel.orders.upsert import UpsertResult, amazon_orders_upsert
from amazon_channel.outbox.backoff import backoff_seconds, throttle_backoff_seconds
from amazon_channel.outbox.leases import lease_claim, lease_duration, lease_extend
from amazon_channel.spapi.client import (
    AmazonAuthorizationError,
    AmazonClient,
    AmazonError,
    AmazonRequestError,
    AmazonRetryableError,
    AmazonThrottled,
    RateLimited,
    clock_skew_margin,
    longest_limiter_wait,
)
from amazon_channel.stores.services import store_problem_report
from amazon_channel.transitions import store_sync_state_transition, sync_run_transition

logger = logging.getLogger(__name__)

LOOKBACK = timedelta(minutes=10)
CLOCK_MARGIN = timedelta(minutes=2)  # Amazon's rule: *Before at least 2 minutes ago.
# A 400 on a window ending less than this before the end our clock allows may be Amazon's clock
# running behind ours; a window ending earlier was refused for something else.
MAX_CLOCK_SKEW = timedelta(minutes=15)
FIRST_SYNC_DAYS = 30
MAX_CONSECUTIVE_ERRORS = 8
# Orders left needing attention that one run reads again with getOrder (rate 0.5/s, burst 30).
ATTENTION_REREADS_PER_RUN = 20


class SyncNotAllowed(Exception):
    """The store is inactive or paused; `reason` says why in plain words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class StepOutcome:
    """What a step leaves to its caller: finished, or come back after `wait_seconds`."""

    is_finished: bool = False
    wait_seconds: float = 0.0
    is_busy: bool = False


def window_end_for(now: datetime) -> datetime:
    """The latest window end Amazon accepts by our clock (two minutes before the request),
    less the margin for Amazon's clock running behind ours; whole seconds, as sent."""
    return (now - CLOCK_MARGIN - clock_skew_margin()).replace(microsecond=0)


def sync_run_start(
    *, store: Store, kind: str, since: datetime | None = None, now: datetime | None = None
) -> SyncRun | None:
    """Open a run for the store; None when another worker holds a live run.

    A run whose lease expired (its worker died) is handed back to be resumed. Raises
    SyncNotAllowed for an inactive store or one that needs reauthorization.
    """
    now = now or timezone.now()
    with transaction.atomic():
        store = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
        running = store.sync_runs.filter(status=SyncRun.Status.RUNNING).first()
        if running is not None:
            if running.lease_expires_at and running.lease_expires_at > now:
                return None
            return running
        if not store.is_active:
            raise SyncNotAllowed("The store is inactive.")
        if store.is_sync_paused:
            raise SyncNotAllowed(store.sync_state_message or "The store needs reauthorization.")
        if since is not None:
            window_start = since
        elif store.orders_watermark is not None:
            window_start = store.orders_watermark - LOOKBACK
        else:
            window_start = now - timedelta(days=FIRST_SYNC_DAYS)
        # Whole seconds, as sent to Amazon: the watermark is exactly the bound that was read.
        return SyncRun.objects.create(
            store=store,
            kind=kind,
            window_start=window_start.replace(microsecond=0),
            window_end=window_end_for(now),
            lease_expires_at=now,
        )


def _claim(run_id: int, holder: str) -> SyncRun | None:
    """Take the run's lease; None when it is finished or another holder's lease is live."""
    run = lease_claim(
        SyncRun.objects.select_related("store"), pk=run_id, holder=holder, duration=lease_duration()
    )
    if run is None or run.status != SyncRun.Status.RUNNING:
        return None
    return run


def _locked_run(run: SyncRun, holder: str) -> SyncRun:
    locked = SyncRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
    if locked.status != SyncRun.Status.RUNNING or locked.lease_holder != holder:
        raise LeaseLost(f"sync run {run.pk} is no longer held by {holder}")
    return locked


class LeaseLost(Exception):
    """Another worker took the run over; this one stops without writing."""


def _hold(run: SyncRun, holder: str, seconds: float, **counters: int) -> None:
    """Keep the lease through a wait, so no second worker starts the same run meanwhile."""
    with transaction.atomic():
        locked = _locked_run(run, holder)
        lease_extend(locked, seconds=seconds, margin=lease_duration())
        for name, increment in counters.items():
            setattr(locked, name, getattr(locked, name) + increment)
        locked.save(update_fields=["lease_expires_at", *counters])


def _finish(run: SyncRun, holder: str, *, status: str, message: str = "") -> None:
    with transaction.atomic():
        locked = _locked_run(run, holder)
        store = Store.objects.select_for_update(of=("self",)).get(pk=locked.store_id)
        # _locked_run has locked the run and proved its lease is ours.
        sync_run_transition(
            locked,
            status,
            fields={
                "finished_at": timezone.now(),
                # Orders skipped are counted (orders_skipped), and said by the pages.
                "message": message,
                "lease_holder": "",
            },
            is_locked=True,
        )
        if status == SyncRun.Status.SUCCEEDED:
            # Only a window that starts inside what is already synced may move the watermark.
            covers_gap = (
                store.orders_watermark is None or locked.window_start <= store.orders_watermark
            )
            if covers_gap and (
                store.orders_watermark is None or locked.window_end > store.orders_watermark
            ):
                store.orders_watermark = locked.window_end
            _waiting_notifications_read(store, locked)
            if store.sync_state == SyncState.ERROR:
                store_sync_state_transition(
                    store,
                    SyncState.OK,
                    fields={"sync_state_message": "", "orders_watermark": store.orders_watermark},
                    is_locked=True,
                )
            else:
                store.save(update_fields=["orders_watermark", "updated_at"])


def _waiting_notifications_read(store: Store, run: SyncRun) -> None:
    """The ORDER_CHANGE notifications that waited for the store (paused or inactive when they
    came) are read now: a run starts at the watermark, which stays put while the store cannot
    sync, so this window covers every change they announced before its end (less the margin
    for Amazon's clock). They are not read again one by one."""
    AmazonNotification.objects.filter(
        store=store,
        notification_type=NotificationType.ORDER_CHANGE,
        state=AmazonNotification.State.WAITING,
        received_at__lte=run.window_end - clock_skew_margin(),
    ).update(
        state=AmazonNotification.State.HANDLED,
        handled_at=timezone.now(),
        reason=f"Read by sync run {run.pk} once the store could reach Amazon again.",
    )


def push_misses_count(*, store: Store, order_ids: list[int]) -> int:
    """How many of these orders (new or changed, as a page of the poll found them) changed
    while the seller's ORDER_CHANGE subscription existed, yet no notification about them came
    since their change (Amazon's LastUpdateDate, less the margin for its clock): the changes
    only the poll caught. One query, whatever the number of orders."""
    if not order_ids:
        return 0
    subscribed = NotificationSubscription.objects.filter(
        seller_id=store.seller_id,
        notification_type=NotificationType.ORDER_CHANGE,
        created_at__lte=OuterRef("last_update_date"),
    )
    notified = AmazonNotification.objects.filter(
        store_id=OuterRef("store_id"),
        amazon_order_id=OuterRef("amazon_order_id"),
        notification_type=NotificationType.ORDER_CHANGE,
        received_at__gte=OuterRef("last_update_date") - clock_skew_margin(),
    )
    return (
        AmazonOrder.objects.filter(pk__in=order_ids)
        .filter(Exists(subscribed))
        .exclude(Exists(notified))
        .count()
    )


def _commit_page(
    run: SyncRun, holder: str, *, payloads: list[dict], next_token: str | None, parameters: dict
) -> UpsertResult:
    """Store a page's orders and the cursor after it: the next token together with the search
    parameters it was issued for, so that whoever reads the next page repeats them."""
    with transaction.atomic():
        locked = _locked_run(run, holder)
        result = amazon_orders_upsert(store=run.store, payloads=payloads)
        locked.push_misses += push_misses_count(
            store=run.store, order_ids=result.found_changed_order_ids
        )
        locked.pages += 1
        locked.orders_created += result.created
        locked.orders_updated += result.updated
        locked.orders_unchanged += result.unchanged
        locked.orders_with_problems += result.with_problems + result.unreadable
        locked.orders_skipped += result.unreadable
        locked.consecutive_errors = 0
        locked.pagination_token = next_token or ""
        locked.search_parameters = parameters
        locked.lease_expires_at = timezone.now() + lease_duration()
        locked.save(
            update_fields=[
                "pages",
                "orders_created",
                "orders_updated",
                "orders_unchanged",
                "orders_with_problems",
                "orders_skipped",
                "push_misses",
                "consecutive_errors",
                "pagination_token",
                "search_parameters",
                "lease_expires_at",
            ]
        )
    run.pagination_token = next_token or ""
    run.search_parameters = parameters
    return result


def _search_parameters(run: SyncRun, client: AmazonClient) -> dict:
    """The parameters of the run's next searchOrders call. Once a page was read they are the
    ones stored with its token, never recomputed (a deploy may have changed what we ask for;
    runs of the code before stored parameters got theirs in migration 0017)."""
    if run.search_parameters:
        return run.search_parameters
    return client.search_parameters(
        last_updated_after=run.window_start, last_updated_before=run.window_end
    )


def _is_window_too_recent(error: AmazonRequestError, *, window_end: datetime) -> bool:
    """Whether Amazon's 400 may be its rule that lastUpdatedBefore be at least two minutes
    before the request by its own clock. Amazon words it "at least two minutes before the time
    of the request" or only "The input you have submitted is not valid" (selling-partner-api-
    models issues 974, 2233), so both count, but only for a window ending within
    MAX_CLOCK_SKEW of the latest end our clock allows."""
    if error.status_code != 400:
        return False
    if window_end < timezone.now() - CLOCK_MARGIN - clock_skew_margin() - MAX_CLOCK_SKEW:
        return False
    message = error.message.lower()
    return "minutes before" in message or "input you have submitted is not valid" in message


def _window_end_move(run: SyncRun, holder: str) -> bool:
    """Move the run's window end back, further with each move, and start its pagination again
    from the first page; False when the end cannot move (it reached the window's start).

    A token is tied to the window it was issued for, so a new end needs a new first page. Pages
    already read stay stored: their orders were updated before the old end, and the watermark
    moves only to the new, earlier end, so the next run reads them again and misses nothing.
    """
    with transaction.atomic():
        locked = _locked_run(run, holder)
        step = max(clock_skew_margin(), timedelta(seconds=30)) * (2**locked.window_end_moves)
        new_end = max(locked.window_start, locked.window_end - step)
        if new_end >= locked.window_end:
            return False
        locked.window_end = new_end
        locked.window_end_moves += 1
        locked.pagination_token = ""
        locked.search_parameters = {}
        locked.lease_expires_at = timezone.now() + lease_duration()
        locked.save(
            update_fields=[
                "window_end",
                "window_end_moves",
                "pagination_token",
                "search_parameters",
                "lease_expires_at",
            ]
        )
    run.window_end, run.window_end_moves = locked.window_end, locked.window_end_moves
    run.pagination_token, run.search_parameters = "", {}
    logger.info(
        "store %s: Amazon found the window too recent by its clock; it now ends at %s",
        run.store_id,
        run.window_end.isoformat(),
    )
    return True


def _stop_reason(store_id: int) -> str:
    """Why a running sync must stop before its next page ("" when it may go on)."""
    store = Store.objects.only("is_active", "sync_state", "sync_state_message").get(pk=store_id)
    if not store.is_active:
        return note_english("sync.stopped_deactivated")
    if store.is_sync_paused:
        return note_english("sync.stopped_reauthorization", reason=store.sync_state_message)
    return ""


def sync_run_step(
    *, run_id: int, holder: str, time_budget: float = 60.0, max_pages: int | None = None
) -> StepOutcome:
    """Read and store pages of a run until it ends, must wait, or spends its time budget.

    Never sleeps and never raises for Amazon's answers. Guarantees: each page is committed with
    the cursor that follows it (the token and the parameters it was issued for: every page of a
    run sends the first page's parameters); the watermark moves only when the last page is in.
    A window Amazon finds too recent by its clock is moved back (window_end_moves) and read
    from its first page again, never reported as a store failure. Our limiter's wait, Amazon's
    429, a 5xx, a timeout or a network error come back as a wait (with backoff
    and jitter for errors) while the run keeps its lease; MAX_CONSECUTIVE_ERRORS errors in a row
    fail the run. Rejected credentials pause the store ("needs reauthorization"); another 4xx
    fails the run and is reported on the store. A store deactivated or paused meanwhile ends
    the run (failed, with the reason) before its next page; the watermark stays where it was.
    Raises LeaseLost if another worker took over.
    With `max_pages`, a step stops after that many pages and comes back at once (a zero wait),
    so that one store's backfill does not hold a worker while other stores wait their turn.
    """
    run = _claim(run_id, holder)
    if run is None:
        return StepOutcome(is_busy=True)
    client = AmazonClient(run.store)
    deadline = timezone.now() + timedelta(seconds=time_budget)
    pages_left = max_pages
    while timezone.now() < deadline and (pages_left is None or pages_left > 0):
        stop_reason = _stop_reason(run.store_id)
        if stop_reason:
            _finish(run, holder, status=SyncRun.Status.FAILED, message=stop_reason)
            return StepOutcome(is_finished=True)
        parameters = _search_parameters(run, client)
        try:
            page = client.search_orders(
                parameters=parameters, pagination_token=run.pagination_token or None
            )
        except RateLimited as error:
            _hold(run, holder, error.wait_seconds)
            return StepOutcome(wait_seconds=error.wait_seconds)
        except AmazonThrottled:
            run.consecutive_errors += 1
            # One refill interval at the rate Amazon states, but never beyond the slowest
            # documented one: the broker's visibility timeout is sized on it.
            interval = min(1 / client.paced_rate("searchOrders"), longest_limiter_wait())
            wait = throttle_backoff_seconds(interval, attempt=run.consecutive_errors)
            _hold(run, holder, wait, throttled_calls=1, consecutive_errors=1)
            return StepOutcome(wait_seconds=wait)
        except AmazonRetryableError as error:
            run.consecutive_errors += 1
            if run.consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                _finish(run, holder, status=SyncRun.Status.FAILED, message=error.message)
                store_problem_report(run.store_id, SyncState.ERROR, error.message)
                return StepOutcome(is_finished=True)
            wait = backoff_seconds(run.consecutive_errors)
            _hold(run, holder, wait, retried_errors=1, consecutive_errors=1)
            return StepOutcome(wait_seconds=wait)
        except AmazonAuthorizationError as error:
            _finish(run, holder, status=SyncRun.Status.FAILED, message=error.message)
            store_problem_report(run.store_id, SyncState.NEEDS_REAUTHORIZATION, error.message)
            return StepOutcome(is_finished=True)
        except AmazonRequestError as error:
            if _is_window_too_recent(error, window_end=run.window_end) and _window_end_move(
                run, holder
            ):
                continue
            _finish(run, holder, status=SyncRun.Status.FAILED, message=error.message)
            store_problem_report(run.store_id, SyncState.ERROR, error.message)
            return StepOutcome(is_finished=True)
        result = _commit_page(
            run, holder, payloads=page.orders, next_token=page.next_token, parameters=parameters
        )
        if pages_left is not None:
            pages_left -= 1
        run.consecutive_errors = 0
        follow_up_orders(run=run, order_ids=result.changed_order_ids)
        if not page.next_token:
            attention_orders_retry(run=run, client=client)
            _finish(run, holder, status=SyncRun.Status.SUCCEEDED)
            return StepOutcome(is_finished=True)
    return StepOutcome()


def follow_up_orders(*, run: SyncRun, order_ids: list[int]) -> None:
    """Commerce-side work for orders whose Amazon data changed (import, complete, cancel)."""
    created = commerce_orders_follow(store=run.store, order_ids=order_ids)
    if created:
        SyncRun.objects.filter(pk=run.pk).update(
            commerce_orders_created=F("commerce_orders_created") + created
        )


def attention_orders_retry(*, run: SyncRun, client: AmazonClient) -> None:
    """Read again the orders that had problems, and retry their Commerce import.

    Best effort within the rate limit: what is not reached now is retried by the next run.
    """
    store = run.store
    # A linked order's commerce_import_error only tells a total difference: no retry work.
    waiting = store.orders.filter(
        Q(needs_attention=True) | (~Q(commerce_import_error=[]) & Q(commerce_order__isnull=True))
    )
    order_ids = list(waiting.order_by("last_update_date").values_list("pk", flat=True)[:200])
    # Only ids Amazon could answer for: an over-long id Amazon sent is stored shortened, and a
    # getOrder of that would be refused on every sync.
    reread = store.orders.filter(
        pk__in=order_ids, needs_attention=True, amazon_order_id__regex=r"^\d{3}-\d{7}-\d{7}$"
    )
    for amazon_order_id in reread.values_list("amazon_order_id", flat=True)[
        :ATTENTION_REREADS_PER_RUN
    ]:
        try:
            payload = client.get_order(amazon_order_id)
        except RateLimited:
            break
        except AmazonError as error:
            logger.info("store %s: re-read of an order failed: %s", store.pk, error.message)
            continue
        amazon_orders_upsert(store=store, payloads=[payload])
    follow_up_orders(run=run, order_ids=order_ids)


def amazon_order_recover(*, store: Store, amazon_order_id: str) -> UpsertResult:
    """Read one order with getOrder and store it as a sync would. Raises AmazonError on failure.

    Runs without the sync's lease, beside a running sync: the upsert compares last update times
    under row locks, so an older read never overwrites newer data and an order the sync has just
    inserted is updated (or left unchanged), never imported a second time.
    """
    payload = AmazonClient(store).get_order(amazon_order_id)
    result = amazon_orders_upsert(store=store, payloads=[payload])
    commerce_orders_follow(store=store, order_ids=result.changed_order_ids)
    return result
