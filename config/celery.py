import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("amazon_sales_channel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def keep_django_logging(**kwargs):
    """Workers log through settings.LOGGING (JSON lines with the task id, config/logging.py):
    with a receiver here Celery neither replaces the root handler nor redirects stdout."""
