"""Celery beat's scheduler: django-celery-beat's, touching a heartbeat file after every tick.

Beat ticks at least every few seconds; docker-compose's beat health check fails when the file is
older than a minute (a beat that died or hangs stops touching it).
"""

from pathlib import Path

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler


class HeartbeatDatabaseScheduler(DatabaseScheduler):
    def __init__(self, *args, **kwargs):
        self.heartbeat_file = Path(settings.BEAT_HEARTBEAT_FILE)
        self.heartbeat_file.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        self.heartbeat_file.touch()
        return interval
