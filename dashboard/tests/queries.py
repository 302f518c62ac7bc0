"""The queries a page adds or saves where the database keeps store marks (PostgreSQL:
amazon_channel/stores/changes.py)."""

from django.conf import settings

from amazon_channel.stores.changes import marks_kept


def marks_queries(count: int) -> int:
    """`count` where the database keeps store marks (PostgreSQL), else none."""
    return count if marks_kept() else 0


def permission_queries_again() -> int:
    """The queries a user's second page reads permissions with: none once Redis holds them."""
    return 0 if settings.PERMISSIONS_CACHE_SECONDS else 2
