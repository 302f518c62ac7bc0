"""Order notes, Amazon's refusals, import errors and history notes as codes (commerce_orders.notes).

The three text columns of an Amazon order become lists of notes; history rows get a `notes`
list beside their text. Rows written in English before are converted line by line: a line that
is one of our sentences becomes its code and parameters, any other line (Amazon's words, a
person's, a sentence since removed) stays as text. The sentences are read from the registry of
codes, whose English msgids do not change for a code.
"""

from django.db import migrations, models

BATCH = 2000
TEXT_COLUMNS = ("order_notes", "channel_notes", "commerce_import_error")


def _notes_from_english(text: str) -> list[dict]:
    from commerce_orders.notes import notes_from_english

    return notes_from_english(text or "")


def amazon_orders_convert(AmazonOrder) -> int:
    """Fill the orders' note lists from their old text columns; returns the rows converted."""
    rows = (
        AmazonOrder.objects.exclude(
            order_notes_text="", channel_notes_text="", commerce_import_error_text=""
        )
        .only("pk", *(f"{name}_text" for name in TEXT_COLUMNS))
        .order_by("pk")
    )
    converted, batch = 0, []
    for order in rows.iterator(chunk_size=BATCH):
        for name in TEXT_COLUMNS:
            setattr(order, name, _notes_from_english(getattr(order, f"{name}_text")))
        batch.append(order)
        if len(batch) == BATCH:
            AmazonOrder.objects.bulk_update(batch, TEXT_COLUMNS)
            converted += len(batch)
            batch = []
    AmazonOrder.objects.bulk_update(batch, TEXT_COLUMNS)
    return converted + len(batch)


def events_convert(Event) -> int:
    """Move the events' messages that are our sentences into `notes`; Amazon's stay text."""
    from commerce_orders.notes import note_from_english

    converted, batch = 0, []
    for event in (
        Event.objects.exclude(message="")
        .only("pk", "message")
        .order_by("pk")
        .iterator(chunk_size=BATCH)
    ):
        found = note_from_english(event.message)
        if "code" not in found:
            continue
        event.notes, event.message = [found], ""
        batch.append(event)
        if len(batch) == BATCH:
            Event.objects.bulk_update(batch, ("notes", "message"))
            converted += len(batch)
            batch = []
    Event.objects.bulk_update(batch, ("notes", "message"))
    return converted + len(batch)


def forwards(apps, schema_editor):
    amazon_orders_convert(apps.get_model("amazon_channel", "AmazonOrder"))
    events_convert(apps.get_model("amazon_channel", "AmazonOrderEvent"))
    events_convert(apps.get_model("amazon_channel", "StoreEvent"))


def backwards(apps, schema_editor):
    """The notes back as English text."""
    from django.utils import translation

    from commerce_orders.notes import notes_text

    AmazonOrder = apps.get_model("amazon_channel", "AmazonOrder")
    with translation.override("en"):
        for order in AmazonOrder.objects.order_by("pk").iterator(chunk_size=BATCH):
            for name in TEXT_COLUMNS:
                setattr(order, f"{name}_text", notes_text(getattr(order, name)))
            order.save(update_fields=[f"{name}_text" for name in TEXT_COLUMNS])
        for model in ("AmazonOrderEvent", "StoreEvent"):
            Event = apps.get_model("amazon_channel", model)
            for event in Event.objects.exclude(notes=[]).iterator(chunk_size=BATCH):
                event.message = "\n".join(filter(None, [notes_text(event.notes), event.message]))
                event.save(update_fields=["message"])


class Migration(migrations.Migration):
    dependencies = [
        ("amazon_channel", "0014_health_reauthorized_and_buyer_cancellations"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="amazonorder", name="amazon_order_store_attention"),
        *(
            migrations.RenameField(model_name="amazonorder", old_name=name, new_name=f"{name}_text")
            for name in TEXT_COLUMNS
        ),
        migrations.AddField(
            model_name="amazonorder",
            name="order_notes",
            field=models.JSONField(blank=True, default=list, verbose_name="order notes"),
        ),
        migrations.AddField(
            model_name="amazonorder",
            name="channel_notes",
            field=models.JSONField(blank=True, default=list, verbose_name="Amazon's refusals"),
        ),
        migrations.AddField(
            model_name="amazonorder",
            name="commerce_import_error",
            field=models.JSONField(blank=True, default=list, verbose_name="import error"),
        ),
        migrations.AddField(
            model_name="amazonorderevent",
            name="notes",
            field=models.JSONField(blank=True, default=list, verbose_name="notes"),
        ),
        migrations.AddField(
            model_name="storeevent",
            name="notes",
            field=models.JSONField(blank=True, default=list, verbose_name="notes"),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
        *(
            migrations.RemoveField(model_name="amazonorder", name=f"{name}_text")
            for name in TEXT_COLUMNS
        ),
        migrations.AddIndex(
            model_name="amazonorder",
            index=models.Index(
                condition=models.Q(
                    ("needs_attention", True),
                    models.Q(("commerce_import_error", []), _negated=True),
                    _connector="OR",
                ),
                fields=["store"],
                name="amazon_order_store_attention",
            ),
        ),
    ]
