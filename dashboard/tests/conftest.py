import pytest
from django.conf import settings

from dashboard.tests.factories import user_with_permissions

ALL_PERMISSIONS = (
    "view_store",
    "change_store",
    "sync_store",
    "view_amazonorder",
    "change_amazonorder",
    "cancel_amazonorder",
)


@pytest.fixture(autouse=True)
def _no_eager_celery(settings):
    # Nothing runs the queued outbox or sync tasks: they stay in the broker.
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def merchant(db):
    return user_with_permissions("merchant", *ALL_PERMISSIONS)


@pytest.fixture
def viewer(db):
    """May look at stores and orders, and do nothing else."""
    return user_with_permissions("viewer", "view_store", "view_amazonorder")


@pytest.fixture
def merchant_client(client, merchant):
    client.force_login(merchant)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def session_queries() -> int:
    """The queries a page runs to read its session: none when Redis holds the sessions
    (settings.SESSION_ENGINE), one without Redis."""
    return 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1
