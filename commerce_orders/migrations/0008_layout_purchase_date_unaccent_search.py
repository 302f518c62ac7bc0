import django.utils.timezone
from django.db import migrations, models

from config.migration_operations import (
    CREATE_TRIGRAM_EXTENSION,
    CREATE_UNACCENT_FUNCTION,
    trigram_index_drop,
    unaccent_trigram_index,
)


class Migration(migrations.Migration):
    """An order's purchase date may be its sales channel's (no longer always "now"); the grid's
    customer name search ignores accents, with its trigram index on PostgreSQL."""

    dependencies = [
        ("commerce_orders", "0007_lang_event_notes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="commerceorder",
            name="created_at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, verbose_name="purchase date"
            ),
        ),
        CREATE_TRIGRAM_EXTENSION,
        CREATE_UNACCENT_FUNCTION,
        unaccent_trigram_index("commerce_orders_commerceorder", "customer_name"),
        trigram_index_drop("commerce_orders_commerceorder", "customer_name"),
    ]
