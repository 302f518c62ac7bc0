"""The store cards' counts from their own rows: orders per day for the chart, and each
cancellation's store; a status index for All Orders; the run's count of skipped orders."""

from datetime import UTC

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import TruncDate

from config.migration_operations import RunSQLOnPostgreSQL

BATCH_SIZE = 2000


def order_days_count(apps, schema_editor):
    """Count the orders already stored, per store and day (UTC)."""
    AmazonOrder = apps.get_model("amazon_channel", "AmazonOrder")
    StoreOrderDay = apps.get_model("amazon_channel", "StoreOrderDay")
    rows = (
        AmazonOrder.objects.annotate(day=TruncDate("purchase_date", tzinfo=UTC))
        .values("store_id", "day")
        .annotate(total=Count("*"))
        .order_by()
    )
    StoreOrderDay.objects.bulk_create(
        (
            StoreOrderDay(store_id=row["store_id"], day=row["day"], order_count=row["total"])
            for row in rows.iterator()
        ),
        batch_size=BATCH_SIZE,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("amazon_channel", "0007_store_events"),
    ]

    operations = [
        # Foreign keys are checked at commit on PostgreSQL: rows written below would otherwise
        # leave trigger events pending, and ALTER TABLE refuses to run with pending events.
        RunSQLOnPostgreSQL(
            sql="SET CONSTRAINTS ALL IMMEDIATE", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.CreateModel(
            name="StoreOrderDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="day")),
                ("order_count", models.PositiveIntegerField(default=0, verbose_name="orders")),
                (
                    "store",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="order_days",
                        to="amazon_channel.store",
                        verbose_name="store",
                    ),
                ),
            ],
            options={
                "verbose_name": "orders of a day",
                "verbose_name_plural": "orders per day",
            },
        ),
        migrations.AddConstraint(
            model_name="storeorderday",
            constraint=models.UniqueConstraint(
                fields=("store", "day"), name="store_order_day_unique"
            ),
        ),
        migrations.RunPython(order_days_count, migrations.RunPython.noop),
        # Each cancellation's store: added empty, copied from its order, then required.
        migrations.AddField(
            model_name="amazonordercancellation",
            name="store",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="order_cancellations",
                to="amazon_channel.store",
                verbose_name="store",
            ),
        ),
        migrations.RunSQL(
            sql="""
                UPDATE amazon_channel_amazonordercancellation
                SET store_id = (
                    SELECT store_id FROM amazon_channel_amazonorder
                    WHERE amazon_channel_amazonorder.id = amazon_channel_amazonordercancellation.order_id
                )
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="amazonordercancellation",
            name="store",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="order_cancellations",
                to="amazon_channel.store",
                verbose_name="store",
            ),
        ),
        migrations.AddIndex(
            model_name="amazonordercancellation",
            index=models.Index(fields=["store", "state"], name="cancellation_store_state"),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="orders_skipped",
            field=models.PositiveIntegerField(default=0, verbose_name="orders skipped"),
        ),
        migrations.AddIndex(
            model_name="amazonorder",
            index=models.Index(fields=["store", "status", "id"], name="amazon_order_store_status"),
        ),
    ]
