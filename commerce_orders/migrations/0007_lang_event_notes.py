"""Order history notes as codes (commerce_orders.notes): what the system wrote in a history
row's comment moves to `notes`, a line each where it is one of our English sentences; the rest
(what a person wrote) stays the comment."""

from django.db import migrations, models

BATCH = 2000


def comment_split(comment: str) -> tuple[list[dict], str]:
    """(the notes of our sentences, the comment's other lines) of an old history comment."""
    from commerce_orders.notes import notes_from_english

    notes, kept = [], []
    for found in notes_from_english(comment):
        if "code" in found:
            notes.append(found)
        else:
            kept.append(found["text"])
    return notes, "\n".join(kept)


def forwards(apps, schema_editor):
    Event = apps.get_model("commerce_orders", "CommerceOrderEvent")
    batch = []
    for event in (
        Event.objects.exclude(comment="")
        .only("pk", "comment")
        .order_by("pk")
        .iterator(chunk_size=BATCH)
    ):
        notes, comment = comment_split(event.comment)
        if not notes:
            continue
        event.notes, event.comment = notes, comment
        batch.append(event)
        if len(batch) == BATCH:
            Event.objects.bulk_update(batch, ("notes", "comment"))
            batch = []
    Event.objects.bulk_update(batch, ("notes", "comment"))


def backwards(apps, schema_editor):
    from django.utils import translation

    from commerce_orders.notes import notes_text

    Event = apps.get_model("commerce_orders", "CommerceOrderEvent")
    with translation.override("en"):
        for event in Event.objects.exclude(notes=[]).iterator(chunk_size=BATCH):
            event.comment = "\n".join(filter(None, [notes_text(event.notes), event.comment]))
            event.save(update_fields=["comment"])


class Migration(migrations.Migration):
    dependencies = [
        ("commerce_orders", "0005_grid_sort_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="commerceorderevent",
            name="notes",
            field=models.JSONField(blank=True, default=list, verbose_name="notes"),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
