"""Drive the Seller Central sandbox: sellers, buyer orders, lifecycles, faults.

    manage.py sandbox seller-create --seller-id A1 --client-id ID --client-secret S \
        --refresh-token Atzr|... [--marketplace-id ATVPDKIKX0DER ...]
    manage.py sandbox orders-generate --seller-id A1 --count 50 [--seed 1] [--days 2]
        [--now 2025-06-01T12:00:00Z]
    manage.py sandbox lifecycle --seller-id A1 [--seed 1] [--now 2025-06-01T12:05:00Z]
    manage.py sandbox faults --seller-id A1 [--fail-next N --status 503] [--fail-probability P]
        [--latency-ms N] [--malformed-next N] [--revoke-tokens | --restore-tokens]
        [--expire-tokens] [--refill-rate-limits] [--clear]

The same seed and --now give the same orders and steps; --now defaults to the current time, so
without it the timestamps (and the orders a search window catches) differ from run to run.
"""

import argparse
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from seller_central_sandbox.models import SandboxSeller
from seller_central_sandbox.services.orders import orders_generate, orders_lifecycle_advance
from seller_central_sandbox.services.sellers import (
    FaultSettings,
    SandboxError,
    seller_access_tokens_expire,
    seller_create,
    seller_faults_update,
    seller_rate_limits_refill,
    seller_tokens_restore,
    seller_tokens_revoke,
)

NOW_HELP = (
    "The current time as the buyers see it, ISO 8601 (UTC unless an offset is given); "
    "default: now. The same seed and --now give the same result."
)


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
        generate.add_argument("--days", type=float, default=2, help="Spread over that many days.")
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
            else:
                self._faults(seller, options)
        except SandboxError as error:
            raise CommandError(error.message) from error

    def _seller(self, seller_id: str) -> SandboxSeller:
        seller = SandboxSeller.objects.filter(seller_id=seller_id).first()
        if seller is None:
            raise CommandError(f"No sandbox seller {seller_id}.")
        return seller

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
