"""Property-based fuzz of the order import on PostgreSQL: hostile orders generated from Amazon's
2026-01-01 model (tests/order_fuzzing.py) among good ones, through the real parse and upsert
path. No exception escapes, nothing is half-written, the rest of the page lands.

CI runs a few hundred derandomized examples (the same ones on every run);
bench/fuzz_orders.py runs 10,000 and more with a seed of its own.
"""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.order_fuzzing import order_payloads, page_check

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db]

CI_EXAMPLES = 300
# Everything but the explain phase, which reruns a failing example many times over.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)


def store_page(hostile_payloads: list[dict]) -> None:
    with transaction.atomic():
        outcome = page_check(hostile_payloads)
        transaction.set_rollback(True)
    assert not outcome.failures, outcome.failures


@settings(
    max_examples=CI_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile=order_payloads())
def test_a_hostile_order_among_good_ones_costs_only_itself(hostile):
    store_page([hostile])


@settings(
    max_examples=CI_EXAMPLES // 5,
    deadline=None,
    derandomize=True,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile=st.lists(order_payloads(), min_size=2, max_size=2))
def test_two_hostile_orders_in_one_page_cost_only_themselves(hostile):
    store_page(hostile)
