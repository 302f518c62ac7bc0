"""Reads for the dashboard."""

from django.db.models import Count, QuerySet

from amazon_channel.models import Store


def store_list_for_cards() -> QuerySet[Store]:
    """Every store with its order count, in one query."""
    return Store.objects.annotate(order_count=Count("orders")).order_by("name")
