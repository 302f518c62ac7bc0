from django.db import migrations, models

from config.migration_operations import (
    CREATE_TRIGRAM_EXTENSION,
    CREATE_UNACCENT_FUNCTION,
    trigram_index_drop,
    unaccent_trigram_index,
)


def commerce_purchase_dates_from_amazon(apps, schema_editor):
    """A Commerce order imported from Amazon was dated by its import: date it by Amazon's
    purchase date, as order_create now does."""
    AmazonOrder = apps.get_model("amazon_channel", "AmazonOrder")
    CommerceOrder = apps.get_model("commerce_orders", "CommerceOrder")
    purchase_date = AmazonOrder.objects.filter(commerce_order=models.OuterRef("pk")).values(
        "purchase_date"
    )[:1]
    imported = AmazonOrder.objects.filter(commerce_order__isnull=False).values("commerce_order")
    CommerceOrder.objects.filter(pk__in=imported).update(
        created_at=models.Subquery(purchase_date)
    )


class Migration(migrations.Migration):
    """All Orders: the buyer's name search ignores accents (its trigram index on PostgreSQL) and
    the list sorts by buyer's name; imported Commerce orders carry Amazon's purchase date."""

    dependencies = [
        ("amazon_channel", "0015_lang_notes_as_codes"),
        ("commerce_orders", "0008_layout_purchase_date_unaccent_search"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="amazonorder",
            index=models.Index(
                fields=["store", "buyer_name", "id"], name="amazon_order_store_buyer"
            ),
        ),
        CREATE_TRIGRAM_EXTENSION,
        CREATE_UNACCENT_FUNCTION,
        unaccent_trigram_index("amazon_channel_amazonorder", "buyer_name"),
        trigram_index_drop("amazon_channel_amazonorder", "buyer_name"),
        migrations.RunPython(commerce_purchase_dates_from_amazon, migrations.RunPython.noop),
    ]
