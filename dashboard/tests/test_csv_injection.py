"""The Commerce CSV export never hands a spreadsheet a formula (OWASP "CSV Injection"): a text
cell that starts one gets a leading single quote, every cell is quoted, numbers stay numbers."""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from commerce_orders.models import OrderAddress
from commerce_orders.tests.factories import CommerceOrderFactory
from dashboard.csv_export import csv_cell, csv_lines
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
    "\u00a0=1+1",  # a no-break space first
    "\uff1d1+1",  # a full-width equals sign
    "=cmd|' /C calc'!A0",
]


@pytest.fixture
def clerk_client(client):
    client.force_login(user_with_app_permissions("clerk", *COMMERCE_PERMISSIONS))
    return client


def exported(client, order) -> tuple[str, dict[str, str]]:
    response = client.post(reverse("dashboard:commerce_order_export"), {"order_ids": [order.pk]})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    header, row = csv.reader(io.StringIO(text))
    return text, dict(zip(header, row, strict=True))


def order_with(*, bill_to: str, **values):
    order = CommerceOrderFactory(**values)
    OrderAddress.objects.create(
        order=order, address_type=OrderAddress.AddressType.BILLING, name=bill_to
    )
    OrderAddress.objects.create(
        order=order, address_type=OrderAddress.AddressType.SHIPPING, name=bill_to
    )
    return order


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_bill_to_name_that_starts_a_formula_is_exported_as_text(clerk_client, formula):
    order = order_with(
        bill_to=formula,
        customer_email=f"{formula}@example.com"[:254],
        external_channel="amazon",
        external_order_id=formula[:64],
    )

    _text, row = exported(clerk_client, order)

    assert row["Bill-to Name"] == "'" + formula
    assert row["Ship-to Name"] == "'" + formula
    assert row["Customer Email"] == "'" + f"{formula}@example.com"
    assert row["Channel Order ID"] == "'" + formula[:64]


def test_ordinary_names_and_amounts_are_exported_as_they_are(clerk_client):
    order = order_with(
        bill_to="Jean-Luc O'Brien",
        customer_email="jl@example.com",
        grand_total=Decimal("58.54"),
    )

    _text, row = exported(clerk_client, order)

    assert row["Bill-to Name"] == "Jean-Luc O'Brien"
    assert row["Customer Email"] == "jl@example.com"
    assert row["Grand Total"] == "58.54"
    assert row["Total Refunded"] == "0.00"


def test_a_negative_amount_stays_a_number(clerk_client):
    # Amounts are the app's own figures, not buyer text: a credit or refund may be negative.
    order = order_with(bill_to="Erika", grand_total=Decimal("-12.50"))

    _text, row = exported(clerk_client, order)

    assert row["Grand Total"] == "-12.50"
    assert list(csv_lines([[Decimal("-3.00"), -4, "-5"]])) == ['"-3.00","-4","\'-5"\r\n']


def test_every_cell_is_quoted_so_a_separator_in_a_name_never_starts_a_cell(clerk_client):
    # OWASP: a separator or quote in a value must not start a new cell (one that starts a
    # formula); quoted, with its quotes doubled, it stays inside its own cell.
    order = order_with(bill_to='Erika;=1+1,"=2+2"')

    text, row = exported(clerk_client, order)

    assert row["Bill-to Name"] == 'Erika;=1+1,"=2+2"'
    assert '"Erika;=1+1,""=2+2"""' in text
    assert all(line.startswith('"') for line in text.splitlines())


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("", ""),
        ("Erika", "Erika"),
        ("a=b", "a=b"),
        ("'=already quoted", "'=already quoted"),
        ("-", "'-"),
        (None, None),
        (Decimal("-1.00"), Decimal("-1.00")),
    ],
)
def test_csv_cell_prefixes_only_text_that_starts_a_formula(value, cell):
    assert csv_cell(value) == cell


def test_the_app_writes_csv_only_through_csv_export():
    """Every export the app has goes through dashboard/csv_export.py (the sandbox, Amazon's
    stand-in, and the tests excepted)."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(")
    base = Path(settings.BASE_DIR)
    offenders = [
        str(path.relative_to(base))
        for app in ("amazon_channel", "commerce_orders", "dashboard", "config")
        for path in (base / app).rglob("*.py")
        if "tests" not in path.parts
        and path.name != "csv_export.py"
        and writers.search(path.read_text())
    ]

    assert offenders == []
