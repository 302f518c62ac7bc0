from django.db import migrations

from config.migration_operations import CREATE_TRIGRAM_EXTENSION, trigram_index


class Migration(migrations.Migration):
    """The orders grid's search (icontains over four columns) on PostgreSQL."""

    dependencies = [
        ("commerce_orders", "0003_shipments_credit_memos_hold_grid_indexes"),
    ]

    operations = [
        CREATE_TRIGRAM_EXTENSION,
        trigram_index("commerce_orders_commerceorder", "increment_id"),
        trigram_index("commerce_orders_commerceorder", "external_order_id"),
        trigram_index("commerce_orders_commerceorder", "customer_name"),
        trigram_index("commerce_orders_commerceorder", "customer_email"),
    ]
