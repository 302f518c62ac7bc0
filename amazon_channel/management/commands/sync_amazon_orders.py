import time
import uuid
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from amazon_channel.models import Store, SyncRun
from amazon_channel.orders.sync import (
    SyncNotAllowed,
    amazon_order_recover,
    sync_run_start,
    sync_run_step,
)
from amazon_channel.spapi.client import AmazonError


def parse_since(value: str):
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since {value!r} is not a date (YYYY-MM-DD) or ISO datetime.")
        moment = datetime(day.year, day.month, day.day)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment


class Command(BaseCommand):
    """Exit status, for cron and monitoring: 0 when every store's run succeeded, or was left to
    the live run another worker holds (it does the work: not a failure of this invocation); 1
    when a run failed or a store refused to sync (inactive, needs reauthorization), each with
    its reason on stderr; 1 too when an --order recovery fails."""

    help = (
        "Sync Amazon orders in the foreground, as the scheduled sync does, with a progress bar. "
        "Exits 1 when a run fails or a store refuses to sync, with the reason on stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, help="Store id (default: every active store)")
        parser.add_argument("--since", help="Read orders updated since this date or datetime")
        parser.add_argument("--order", help="Recover one Amazon order by its number")

    def handle(self, *args, store=None, since=None, order=None, **options):
        stores = Store.objects.filter(pk=store) if store else Store.objects.filter(is_active=True)
        if store and not stores.exists():
            raise CommandError(f"No store with id {store}.")
        if order:
            if not store:
                raise CommandError("--order needs --store.")
            self.recover(stores.get(), order)
            return
        since_moment = parse_since(since) if since else None
        problems = [problem for each in stores if (problem := self.sync(each, since_moment))]
        if problems:
            # Each problem was written to stderr as it happened: the summary only counts them.
            raise CommandError(f"{len(problems)} of {len(stores)} stores did not sync (see above).")

    def recover(self, store: Store, amazon_order_id: str) -> None:
        try:
            result = amazon_order_recover(store=store, amazon_order_id=amazon_order_id)
        except AmazonError as error:
            raise CommandError(f"{amazon_order_id}: {error.message}") from error
        verb = "created" if result.created else "updated" if result.updated else "unchanged"
        self.stdout.write(f"{amazon_order_id}: {verb}.")

    def sync(self, store: Store, since) -> str:
        """Sync one store in the foreground; the problem in a line ("" when there is none)."""
        try:
            run = sync_run_start(store=store, kind=SyncRun.Kind.COMMAND, since=since)
        except SyncNotAllowed as error:
            problem = f"{store.name}: refused: {error.reason}"
            self.stderr.write(problem)
            return problem
        if run is None:
            # Another worker's live run reads the same orders: nothing is wrong here.
            self.stderr.write(f"{store.name}: a sync is already running; try again later.")
            return ""
        holder = f"command-{uuid.uuid4()}"
        with tqdm(desc=store.name, unit="page", file=self.stderr) as bar:
            while True:
                outcome = sync_run_step(run_id=run.pk, holder=holder)
                run.refresh_from_db()
                bar.update(run.pages - bar.n)
                bar.set_postfix(created=run.orders_created, updated=run.orders_updated)
                if outcome.is_finished or outcome.is_busy:
                    break
                if outcome.wait_seconds:
                    # A foreground command may wait; workers reschedule instead.
                    bar.set_postfix_str(f"rate limit: next page in {outcome.wait_seconds:.0f} s")
                    time.sleep(outcome.wait_seconds)
        self.stdout.write(
            f"{store.name}: {run.get_status_display()}: {run.pages} pages, "
            f"{run.orders_created} created, {run.orders_updated} updated, "
            f"{run.throttled_calls} throttled. {run.message}".strip()
        )
        if run.status == SyncRun.Status.FAILED:
            problem = f"{store.name}: failed: {run.message}"
            self.stderr.write(problem)
            return problem
        if run.status == SyncRun.Status.RUNNING:
            # Another worker took the run over (our lease lapsed): it carries on there.
            self.stderr.write(f"{store.name}: the run goes on in another worker.")
        return ""
