import pytest

from commerce_orders.models import CommerceOrder
from commerce_orders.services import sequence_next_value
from commerce_orders.services.sequences import ORDER_SEQUENCE, document_number_next
from commerce_orders.tests.factories import CommerceOrderFactory

pytestmark = pytest.mark.django_db


def test_a_sequence_starts_at_one_and_counts_up():
    values = [sequence_next_value(name="order") for _ in range(3)]

    assert values == [1, 2, 3]


def test_sequences_count_independently():
    sequence_next_value(name="order")

    assert sequence_next_value(name="invoice") == 1


def test_a_document_number_is_zero_padded_to_nine_digits():
    assert document_number_next(sequence=ORDER_SEQUENCE, model=CommerceOrder) == "000000001"


def test_a_document_number_already_used_is_skipped():
    CommerceOrderFactory(increment_id="000000001")

    assert document_number_next(sequence=ORDER_SEQUENCE, model=CommerceOrder) == "000000002"
