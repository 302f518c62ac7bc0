"""Document numbers (orders, invoices) from counter rows, as Commerce's sequence tables do."""

from django.db import models, transaction

from commerce_orders.models import CommerceSequence

ORDER_SEQUENCE = "order"
INVOICE_SEQUENCE = "invoice"
SHIPMENT_SEQUENCE = "shipment"
CREDIT_MEMO_SEQUENCE = "creditmemo"
NUMBER_WIDTH = 9


def sequence_next_value(*, name: str) -> int:
    """Return the next value of the named counter, creating it at 1 on first use.

    The counter row stays locked until the caller's outermost transaction ends, so two
    concurrent callers never receive the same value (PostgreSQL row lock; SQLite's writer lock).
    """
    with transaction.atomic():
        sequence, _created = CommerceSequence.objects.select_for_update().get_or_create(name=name)
        sequence.last_value += 1
        sequence.save(update_fields=["last_value"])
        return sequence.last_value


def document_number_next(*, sequence: str, model: type[models.Model]) -> str:
    """Return the next free zero-padded number ("000000001") of `sequence` for `model`.

    Skips values already used as `model.increment_id` (a caller-given or hand-made number).
    """
    while True:
        number = f"{sequence_next_value(name=sequence):0{NUMBER_WIDTH}d}"
        if not model.objects.filter(increment_id=number).exists():
            return number
