from django.core.management.base import BaseCommand, CommandError

from amazon_channel.models import Store
from amazon_channel.notifications.setup import (
    NotificationsSetupError,
    notifications_configured,
    store_notifications_failure_record,
    store_notifications_subscribe,
    store_notifications_unsubscribe,
)
from amazon_channel.spapi.client import AmazonError
from commerce_orders.notes import note_render


class Command(BaseCommand):
    """Exit status: 0 when every store's notifications are set up (or removed), 1 otherwise,
    each failure with its reason on stderr (and, for a setup, on the store's Order Settings)."""

    help = (
        "Subscribe the stores' sellers to Amazon's notifications (ORDER_CHANGE, "
        "FEED_PROCESSING_FINISHED) in the foreground, as connecting a store does; with "
        "--remove, delete the subscriptions of inactive stores whose sellers have no other "
        "active store."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, help="Store id (default: every active store)")
        parser.add_argument(
            "--remove",
            action="store_true",
            help="Delete the subscriptions of the inactive store(s) instead",
        )

    def handle(self, *args, store=None, remove=False, **options):
        stores = Store.objects.filter(is_active=not remove).order_by("pk")
        if store:
            stores = Store.objects.filter(pk=store)
            if not stores.exists():
                raise CommandError(f"No store with id {store}.")
        if not remove and not notifications_configured():
            raise CommandError("AMAZON_NOTIFICATIONS_QUEUE_URL is empty: notifications are off.")
        failed = 0
        for each in stores:
            try:
                if remove:
                    if each.is_active:
                        raise CommandError(f"Store {each.pk} is active: deactivate it first.")
                    store_notifications_unsubscribe(store=each)
                    self.stdout.write(f"{each.name}: subscriptions removed or kept for others")
                elif store_notifications_subscribe(store_id=each.pk):
                    self.stdout.write(f"{each.name}: notifications on")
                else:
                    self.stdout.write(f"{each.name}: skipped (inactive)")
            except (AmazonError, NotificationsSetupError) as error:
                failed += 1
                if not remove:
                    store_notifications_failure_record(store_id=each.pk, error=error)
                is_amazons = isinstance(error, AmazonError)
                reason = error.message if is_amazons else note_render(error.reason)
                self.stderr.write(f"{each.name}: {reason}")
        if failed:
            raise CommandError(f"{failed} store(s) failed.", returncode=1)
