"""What Amazon does on its own, without a call: a feed finishes when its time has come (the
sandbox otherwise moves feeds on only when they are read), and a notification held back for
the swapped-order fault goes out. The sandbox process runs it every few seconds
(SANDBOX_NOTIFICATION_PUMP_SECONDS); tests and `manage.py sandbox notifications --pump` run one
turn."""

import logging
import threading
import time

from django.db import close_old_connections

from seller_central_sandbox.models import (
    FeedProcessingStatus,
    SandboxFeed,
    SandboxNotificationSubscription,
)
from seller_central_sandbox.services.feeds import feed_advance
from seller_central_sandbox.services.notifications import (
    FEED_PROCESSING_FINISHED,
    notifications_held_release,
)
from seller_central_sandbox.services.sellers import SandboxError

logger = logging.getLogger(__name__)


def notifications_pump() -> dict[str, int]:
    """One turn: move on every unfinished feed of a seller subscribed to
    FEED_PROCESSING_FINISHED (a feed that finishes notifies), and release held notifications.
    Returns how many feeds were looked at and notifications released."""
    subscribed = SandboxNotificationSubscription.objects.filter(
        notification_type=FEED_PROCESSING_FINISHED
    ).values("seller_id")
    feeds = SandboxFeed.objects.select_related("seller").filter(
        seller_id__in=subscribed,
        processing_status__in=[FeedProcessingStatus.IN_QUEUE, FeedProcessingStatus.IN_PROGRESS],
    )
    looked_at = 0
    for feed in feeds:
        try:
            feed_advance(seller=feed.seller, feed_id=feed.feed_id)
        except SandboxError:
            continue
        looked_at += 1
    return {"feeds": looked_at, "released": notifications_held_release()}


def notifications_pump_start(interval_seconds: float) -> threading.Thread | None:
    """Run notifications_pump every `interval_seconds` in a daemon thread of this process (the
    sandbox runs one process); None when the interval is 0."""
    if interval_seconds <= 0:
        return None

    def run() -> None:
        while True:
            time.sleep(interval_seconds)
            close_old_connections()
            try:
                notifications_pump()
            except Exception:  # the pump outlives any one bad turn
                logger.exception("sandbox notification pump turn failed")

    thread = threading.Thread(target=run, name="sandbox-notification-pump", daemon=True)
    thread.start()
    return thread
