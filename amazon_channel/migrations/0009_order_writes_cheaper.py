"""Cheaper order writes: no index that the (store, ...) indexes already cover, and the raw
SP-API payload compressed in a binary column instead of jsonb (parsed and TOAST-compressed by
PostgreSQL on every insert)."""

import json
import zlib

import django.db.models.deletion
from django.db import migrations, models

import amazon_channel.fields
from config.migration_operations import RunSQLOnPostgreSQL

BATCH_SIZE = 2000


def payloads_compress(apps, schema_editor):
    """Copy each stored payload into the compressed column, a batch of orders at a time."""
    AmazonOrder = apps.get_model("amazon_channel", "AmazonOrder")
    last_pk = 0
    while True:
        batch = list(
            AmazonOrder.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "raw_payload_json")[:BATCH_SIZE]
        )
        if not batch:
            return
        for order in batch:
            text = json.dumps(
                order.raw_payload_json or {}, ensure_ascii=False, separators=(",", ":")
            )
            order.raw_payload = zlib.compress(text.encode(), 1)
        AmazonOrder.objects.bulk_update(batch, ["raw_payload"])
        last_pk = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ('amazon_channel', '0008_dashboard_counts'),
    ]

    operations = [
        # The payload copy below must leave no foreign key check pending for the DROP COLUMN.
        RunSQLOnPostgreSQL(
            sql="SET CONSTRAINTS ALL IMMEDIATE", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.RemoveIndex(
            model_name='amazonorder',
            name='amazon_order_store_updated',
        ),
        migrations.AlterField(
            model_name='amazonorder',
            name='needs_attention',
            field=models.BooleanField(default=False, verbose_name='needs attention'),
        ),
        migrations.AlterField(
            model_name='amazonorder',
            name='status',
            field=models.CharField(choices=[('Pending', 'Pending'), ('PendingAvailability', 'Pending Availability'), ('Unshipped', 'Unshipped'), ('PartiallyShipped', 'Partially Shipped'), ('Shipped', 'Shipped'), ('Canceled', 'Canceled'), ('Unfulfillable', 'Unfulfillable'), ('InvoiceUnconfirmed', 'Invoice Unconfirmed'), ('Error', 'Error')], max_length=24, verbose_name='status'),
        ),
        migrations.AlterField(
            model_name='amazonorder',
            name='store',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='amazon_channel.store', verbose_name='store'),
        ),
        migrations.AlterField(
            model_name='amazonorderitem',
            name='order',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='items', to='amazon_channel.amazonorder', verbose_name='order'),
        ),
        migrations.RenameField(
            model_name="amazonorder", old_name="raw_payload", new_name="raw_payload_json"
        ),
        migrations.AddField(
            model_name="amazonorder",
            name="raw_payload",
            field=amazon_channel.fields.CompressedJSONField(blank=True, verbose_name="raw payload"),
        ),
        migrations.RunPython(payloads_compress, migrations.RunPython.noop),
        migrations.RemoveField(model_name="amazonorder", name="raw_payload_json"),
    ]
