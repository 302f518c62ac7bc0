from celery import current_app

from amazon_channel.enqueue import OUTBOX_DELIVERY_TASK
from amazon_channel.stores.schedules import STORE_SYNC_TASK
from amazon_channel.tasks import outbox_deliver, store_sync_orders


def test_the_names_services_queue_by_are_the_tasks_celery_runs():
    assert current_app.tasks[OUTBOX_DELIVERY_TASK] == outbox_deliver
    assert current_app.tasks[STORE_SYNC_TASK] == store_sync_orders
