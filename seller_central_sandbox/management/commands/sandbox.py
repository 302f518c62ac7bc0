"""Drive the Seller Central sandbox: sellers, buyer orders, lifecycles, faults.

    manage.py sandbox seller-create --seller-id A1 --client-id ID --client-secret S \
        --refresh-token Atzr|... [--marketplace-id ATVPDKIKX0DER ...]
    manage.py sandbox orders-generate --seller-id A1 --count 50 [--seed 1] [--days 0]
        [--now 2025-06-01T12:00:00Z]
    manage.py sandbox lifecycle --seller-id A1 [--seed 1] [--now 2025-06-01T12:05:00Z]
    manage.py sandbox faults --seller-id A1 [--fail-next N --status 503] [--fail-probability P]
        [--latency-ms N] [--malformed-next N] [--revoke-tokens | --restore-tokens]
        [--expire-tokens] [--refill-rate-limits] [--clear]
    manage.py sandbox amazon --seller-id A1 [--clock-offset SECONDS] [--roles ROLE ...]
        [--usage-plan OPERATION=RATE[/BURST] ...] [--default-usage-plan OPERATION ...]
        [--report-compression none|gzip|alternate]
        [--fatal-next N] [--fatal-applied M] [--fatal-report | --no-fatal-report]
    manage.py sandbox integration-feed --seller-id A1 [--application ERP]
    manage.py sandbox notifications --seller-id A1 [--copies N] [--delay-seconds S]
        [--drop-share P] [--swap-order | --no-swap-order] [--new-orders | --no-new-orders]
        [--body-as-string | --no-body-as-string]
        [--clear] [--pump]

The same seed and --now give the same orders and steps; --now defaults to the current time, so
without it the timestamps (and the orders a search window catches) differ from run to run.
"""

import argparse
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from seller_central_sandbox.models import ResultCompression, SandboxSeller, SellerRole
from seller_central_sandbox.services.integrations import integration_acknowledgements_submit
from seller_central_sandbox.services.notifications import (
    notification_counts,
    seller_notification_faults_set,
)
from seller_central_sandbox.services.orders import orders_generate, orders_lifecycle_advance
from seller_central_sandbox.services.pump import notifications_pump
from seller_central_sandbox.services.sellers import (
    FaultSettings,
    SandboxError,
    seller_access_tokens_expire,
    seller_amazon_behaviour_set,
    seller_create,
    seller_faults_update,
    seller_rate_limits_refill,
    seller_tokens_restore,
    seller_tokens_revoke,
    seller_usage_plan_set,
)

NOW_HELP = (
    "The current time as the buyers see it, ISO 8601 (UTC unless an offset is given); "
    "default: now. The same seed and --now give the same result."
)


def _usage_plan(value: str) -> tuple[str, str, int | None]:
    operation, separator, plan = value.partition("=")
    rate, _, burst = plan.partition("/")
    if not separator or not operation or not rate:
        raise argparse.ArgumentTypeError(f"not OPERATION=RATE[/BURST]: {value!r}")
    try:
        return operation, rate, int(burst) if burst else None
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"the burst is not a whole number: {value!r}") from error


def _moment(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Drive the Seller Central sandbox (sellers, orders, lifecycle, faults)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)

        create = actions.add_parser("seller-create", help="Create or update a seller.")
        create.add_argument("--seller-id", required=True)
        create.add_argument("--client-id", required=True)
        create.add_argument("--client-secret", required=True)
        create.add_argument("--refresh-token", required=True)
        create.add_argument(
            "--marketplace-id", action="append", dest="marketplace_ids", default=None
        )
        create.add_argument("--name", default="")

        generate = actions.add_parser("orders-generate", help="Buyers place orders.")
        generate.add_argument("--seller-id", required=True)
        generate.add_argument("--count", type=int, default=20)
        generate.add_argument("--seed", type=int, default=1)
        generate.add_argument(
            "--days",
            type=float,
            default=0,
            help="Spread over that many days before now (default 0: placed now, as buyers do).",
        )
        generate.add_argument(
            "--if-empty", action="store_true", help="Only when the seller has no orders yet."
        )
        generate.add_argument("--now", type=_moment, default=None, help=NOW_HELP)

        lifecycle = actions.add_parser("lifecycle", help="Move the seller's orders one step on.")
        lifecycle.add_argument("--seller-id", required=True)
        lifecycle.add_argument("--seed", type=int, default=1)
        lifecycle.add_argument("--now", type=_moment, default=None, help=NOW_HELP)

        faults = actions.add_parser("faults", help="Inject faults into the seller's API calls.")
        faults.add_argument("--seller-id", required=True)
        faults.add_argument("--fail-next", type=int)
        faults.add_argument("--status", type=int, choices=[500, 503])
        faults.add_argument("--fail-probability", type=float)
        faults.add_argument("--latency-ms", type=int)
        faults.add_argument("--malformed-next", type=int)
        faults.add_argument("--clear", action="store_true", help="Remove every fault first.")
        tokens = faults.add_mutually_exclusive_group()
        tokens.add_argument("--revoke-tokens", action="store_true")
        tokens.add_argument("--restore-tokens", action="store_true")
        faults.add_argument("--expire-tokens", action="store_true")
        faults.add_argument("--refill-rate-limits", action="store_true")

        amazon = actions.add_parser(
            "amazon", help="How Amazon behaves: clock, roles, usage plans, reports, FATAL feeds."
        )
        amazon.add_argument("--seller-id", required=True)
        amazon.add_argument(
            "--clock-offset", type=int, help="Seconds Amazon's clock runs ahead (negative: behind)."
        )
        amazon.add_argument(
            "--roles",
            nargs="*",
            choices=SellerRole.values,
            help="The roles the seller granted the application (none: no role).",
        )
        amazon.add_argument(
            "--usage-plan",
            action="append",
            type=_usage_plan,
            default=[],
            metavar="OPERATION=RATE[/BURST]",
            help="Amazon applies this plan to the operation from the next call on.",
        )
        amazon.add_argument(
            "--default-usage-plan",
            action="append",
            default=[],
            metavar="OPERATION",
            help="Back to the operation's documented plan.",
        )
        amazon.add_argument("--report-compression", choices=ResultCompression.values)
        amazon.add_argument("--fatal-next", type=int, help="The next N feeds end FATAL.")
        amazon.add_argument(
            "--fatal-applied", type=int, help="Messages a FATAL feed applies before it stops."
        )
        amazon.add_argument(
            "--fatal-report",
            dest="has_fatal_report",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Whether FATAL feeds have a processing report.",
        )
        amazon.add_argument(
            "--fatal-without-report",
            dest="has_fatal_report",
            action="store_const",
            const=False,
            help="The same as --no-fatal-report.",
        )

        integration = actions.add_parser(
            "integration-feed",
            help="Another tool of the seller (an ERP) submits an acknowledgement feed.",
        )
        integration.add_argument("--seller-id", required=True)
        integration.add_argument("--application", default="ERP")

        notifications = actions.add_parser(
            "notifications",
            help="How Amazon delivers the seller's notifications: copies, delay, drops, order.",
        )
        notifications.add_argument("--seller-id", required=True)
        notifications.add_argument("--copies", type=int, help="Copies of each notification.")
        notifications.add_argument(
            "--delay-seconds", type=int, help="Seconds before a notification can be received."
        )
        notifications.add_argument(
            "--drop-share", type=float, help="Share of notifications never sent (0 to 1)."
        )
        notifications.add_argument(
            "--swap-order",
            dest="is_order_swapped",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Deliver each pair of notifications the other way round.",
        )
        notifications.add_argument(
            "--new-orders",
            dest="is_new_order_notified",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Whether a new order notifies (ORDER_CHANGE).",
        )
        notifications.add_argument(
            "--body-as-string",
            dest="is_body_a_string",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Send the body as a JSON string of the notification (decoded twice).",
        )
        notifications.add_argument(
            "--clear", action="store_true", help="Deliver once, at once, in order, first."
        )
        notifications.add_argument(
            "--pump",
            action="store_true",
            help="Finish due feeds and send held notifications now (the sandbox does it itself).",
        )

    def handle(self, *args, **options):
        action = options["action"]
        try:
            if action == "seller-create":
                seller = seller_create(
                    seller_id=options["seller_id"],
                    client_id=options["client_id"],
                    client_secret=options["client_secret"],
                    refresh_token=options["refresh_token"],
                    marketplace_ids=options["marketplace_ids"],
                    name=options["name"],
                )
                self.stdout.write(f"seller {seller.seller_id}: {', '.join(seller.marketplace_ids)}")
                return
            seller = self._seller(options["seller_id"])
            if action == "orders-generate":
                if options["if_empty"] and seller.orders.exists():
                    self.stdout.write(f"{seller.seller_id} already has orders: none generated")
                    return
                orders = orders_generate(
                    seller=seller,
                    count=options["count"],
                    seed=options["seed"],
                    window=timedelta(days=options["days"]),
                    now=options["now"],
                )
                self.stdout.write(f"{len(orders)} orders generated for {seller.seller_id}")
            elif action == "lifecycle":
                steps = orders_lifecycle_advance(
                    seller=seller, seed=options["seed"], now=options["now"]
                )
                summary = ", ".join(f"{name}={count}" for name, count in sorted(steps.items()))
                self.stdout.write(f"lifecycle {seller.seller_id}: {summary or 'nothing to do'}")
            elif action == "amazon":
                self._amazon(seller, options)
            elif action == "notifications":
                self._notifications(seller, options)
            elif action == "integration-feed":
                feed = integration_acknowledgements_submit(
                    seller=seller, application=options["application"]
                )
                self.stdout.write(f"{feed.application} submitted feed {feed.feed_id}")
            else:
                self._faults(seller, options)
        except SandboxError as error:
            raise CommandError(error.message) from error

    def _seller(self, seller_id: str) -> SandboxSeller:
        seller = SandboxSeller.objects.filter(seller_id=seller_id).first()
        if seller is None:
            raise CommandError(f"No sandbox seller {seller_id}.")
        return seller

    def _amazon(self, seller: SandboxSeller, options: dict) -> None:
        # What is not given is kept (None).
        seller = seller_amazon_behaviour_set(
            seller=seller,
            clock_offset_seconds=options["clock_offset"],
            roles=options["roles"],
            result_compression=options["report_compression"],
            fatal_next=options["fatal_next"],
            fatal_applied=options["fatal_applied"],
            has_fatal_report=options["has_fatal_report"],
        )
        for operation, rate, burst in options["usage_plan"]:
            seller = seller_usage_plan_set(
                seller=seller, operation=operation, rate=rate, burst=burst
            )
        for operation in options["default_usage_plan"]:
            seller = seller_usage_plan_set(
                seller=seller, operation=operation, rate=None, burst=None
            )
        plans = ", ".join(
            f"{name}={plan.get('rate', '-')}/{plan.get('burst', '-')}"
            for name, plan in sorted((seller.usage_plans or {}).items())
        )
        self.stdout.write(
            f"amazon {seller.seller_id}: clock_offset={seller.clock_offset_seconds} "
            f"roles={','.join(seller.roles) or '-'} usage_plans={plans or 'documented'} "
            f"report_compression={seller.result_compression} "
            f"fatal_next={seller.fault_feed_fatal_next} "
            f"fatal_applied={seller.fault_feed_fatal_applied} "
            f"fatal_report={seller.fault_feed_fatal_report}"
        )

    def _notifications(self, seller: SandboxSeller, options: dict) -> None:
        if options["clear"]:
            seller = seller_notification_faults_set(
                seller=seller,
                copies=1,
                delay_seconds=0,
                drop_share=0.0,
                is_order_swapped=False,
                is_body_a_string=False,
            )
        seller = seller_notification_faults_set(
            seller=seller,
            copies=options["copies"],
            delay_seconds=options["delay_seconds"],
            drop_share=options["drop_share"],
            is_order_swapped=options["is_order_swapped"],
            is_new_order_notified=options["is_new_order_notified"],
            is_body_a_string=options["is_body_a_string"],
        )
        if options["pump"]:
            turn = notifications_pump()
            self.stdout.write(f"pump: feeds={turn['feeds']} released={turn['released']}")
        counts = ", ".join(
            f"{name.lower()}={count}" for name, count in notification_counts(seller=seller).items()
        )
        self.stdout.write(
            f"notifications {seller.seller_id}: copies={seller.notification_copies} "
            f"delay_seconds={seller.notification_delay_seconds} "
            f"drop_share={seller.notification_drop_share} "
            f"swap_order={seller.is_notification_order_swapped} "
            f"new_orders={seller.is_new_order_notified} "
            f"body_as_string={seller.is_notification_body_a_string} ({counts})"
        )

    def _faults(self, seller: SandboxSeller, options: dict) -> None:
        current = (
            FaultSettings()
            if options["clear"]
            else FaultSettings(
                fail_next=seller.fault_fail_next,
                fail_status=seller.fault_fail_status,
                fail_probability=seller.fault_fail_probability,
                latency_ms=seller.fault_latency_ms,
                malformed_next=seller.fault_malformed_next,
            )
        )
        wanted = FaultSettings(
            fail_next=_given(options["fail_next"], current.fail_next),
            fail_status=_given(options["status"], current.fail_status),
            fail_probability=_given(options["fail_probability"], current.fail_probability),
            latency_ms=_given(options["latency_ms"], current.latency_ms),
            malformed_next=_given(options["malformed_next"], current.malformed_next),
        )
        seller = seller_faults_update(seller=seller, faults=wanted)
        if options["revoke_tokens"]:
            seller_tokens_revoke(seller=seller)
        if options["restore_tokens"]:
            seller_tokens_restore(seller=seller)
        if options["expire_tokens"]:
            seller_access_tokens_expire(seller=seller)
        if options["refill_rate_limits"]:
            seller_rate_limits_refill(seller=seller)
        self.stdout.write(
            f"faults {seller.seller_id}: fail_next={wanted.fail_next} status={wanted.fail_status} "
            f"probability={wanted.fail_probability} latency_ms={wanted.latency_ms} "
            f"malformed_next={wanted.malformed_next} "
            f"refresh_token_revoked={seller.is_refresh_token_revoked}"
        )


def _given(value, default):
    return default if value is None else value
