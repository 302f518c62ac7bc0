"""Leases: one worker at a time on a row's outside work (Amazon calls), surviving dead workers.

A holder claims a row by writing its name and an expiry under the row lock. Another holder may
take the row over only once the lease has expired, so a killed worker's work is resumed, and a
live worker is never doubled.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone


def lease_duration() -> timedelta:
    """How long a lease lasts without news from its holder (AMAZON_LEASE_SECONDS)."""
    return timedelta(seconds=settings.AMAZON_LEASE_SECONDS)


def lease_claim(
    queryset: models.QuerySet, *, pk: int, holder: str, duration: timedelta
) -> models.Model | None:
    """Lock the row and take its lease for `holder`; None when another holder's lease is live.

    The row needs `lease_holder` and `lease_expires_at` fields. Returns the row as locked.
    """
    now = timezone.now()
    with transaction.atomic():
        row = queryset.select_for_update(of=("self",)).get(pk=pk)
        is_other = row.lease_holder and row.lease_holder != holder
        if is_other and row.lease_expires_at and row.lease_expires_at > now:
            return None
        row.lease_holder = holder
        row.lease_expires_at = now + duration
        row.save(update_fields=["lease_holder", "lease_expires_at"])
        return row


def lease_extend(row: models.Model, *, seconds: float, margin: timedelta) -> None:
    """Keep the lease through a wait (the caller holds the row lock)."""
    row.lease_expires_at = timezone.now() + timedelta(seconds=seconds) + margin
