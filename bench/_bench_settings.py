"""config.settings plus what a benchmark with its own processes needs: its own Celery queue.

Benchmark processes (the script, its Celery workers) set DJANGO_SETTINGS_MODULE=_bench_settings
with bench/ on PYTHONPATH, so their tasks never mix with another run's on a shared broker.
"""

import os

from config.settings import *  # noqa: F403 - the project's settings, unchanged

# Celery's default queue (and exchange and routing key, which follow it).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "celery")
