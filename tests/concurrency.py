"""Running the same work from several threads at once, for race tests on PostgreSQL."""

import threading

from django.db import connection


def run_concurrently(worker, count: int) -> list:
    """Start `count` threads on a Barrier, each calling `worker()`; returns what each returned
    or raised, in completion order. Each thread closes its database connection."""
    barrier = threading.Barrier(count)
    outcomes: list = []
    lock = threading.Lock()

    def target():
        try:
            barrier.wait(timeout=10)
            outcome = worker()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            outcome = error
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
