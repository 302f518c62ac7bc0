"""A sync run's message no longer ends with the sentence about the orders it skipped: the pages
say it, in the reader's language, from the run's orders_skipped. The sentence is taken off the
runs that stored it (written in English by the workers), so that no page says it twice."""

import re

from django.db import migrations

SKIPPED = re.compile(r"\s*\d+ orders? without an id or dates (?:was|were) skipped\.\s*$")


def message_without_skipped(apps, schema_editor):
    SyncRun = apps.get_model("amazon_channel", "SyncRun")
    runs = SyncRun.objects.filter(orders_skipped__gt=0, message__contains="without an id or dates")
    changed = []
    for run in runs.only("pk", "message").iterator(chunk_size=500):
        message = SKIPPED.sub("", run.message)
        if message != run.message:
            run.message = message
            changed.append(run)
    SyncRun.objects.bulk_update(changed, ["message"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("amazon_channel", "0024_store_changes_order_details")]

    operations = [migrations.RunPython(message_without_skipped, migrations.RunPython.noop)]
