"""Hostile searchOrders payloads generated from Amazon's own model, and what storing a page of
them must guarantee. Shared by tests/test_fuzz_orders_postgresql.py (a few hundred examples in
CI) and bench/fuzz_orders.py (10,000 and more).

The strategies walk `definitions` of orders_2026-01-01.json (Order, OrderItem, OrderPackage...):
each object gets its required properties (now and then one is missing), any of its optional ones
and now and then an extra field; each string, number and enum is mostly a plausible value, and
otherwise something hostile: NUL and control characters, 10,000 characters, lone surrogates
(what json.loads makes of "\\ud800"), bidirectional overrides, amounts that are NaN, Infinity,
1e30, negative or with many decimals (as strings and as numbers), impossible dates, or a value
of another JSON type altogether.
"""

import copy
import json
import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from commerce_orders.notes import notes_text

PROJECT_DIR = Path(__file__).resolve().parent.parent
MODEL_PATH = PROJECT_DIR / "seller_central_sandbox" / "sp_api_models" / "orders_2026-01-01.json"
MODEL = json.loads(MODEL_PATH.read_text())
DEFINITIONS = MODEL["definitions"]
POSSIBLE_VALUES = re.compile(r"\*\*Possible values\*\*:?\s*(.*)")
VALUE = re.compile(r"`([A-Z0-9_]+)`")
# The largest Order Note a hostile order may produce: what Amazon sent is quoted, never whole.
NOTE_LIMIT = 4000

# Text that breaks storage or display: NUL and controls, surrogates, bidi overrides, zero-width
# and combining characters, a BOM, emoji, astral planes.
NASTY_CHARACTERS = [
    "\x00",
    "\x01",
    "\x07",
    "\x1b",
    "\x7f",
    "\t",
    "\n",
    "\r",
    "\x85",
    "\ud800",
    "\udfff",
    "\u202e",
    "\u200f",
    "\u200b",
    "\ufeff",
    "\u0301",
    "\uffff",
    "\U0001f600",
    "\U0010ffff",
    "'",
    '"',
    "\\",
    "<",
    "%",
    "=",
]


@cache
def hostile_texts() -> st.SearchStrategy[str]:
    nasty = st.sampled_from(NASTY_CHARACTERS)
    return st.one_of(
        st.text(st.one_of(nasty, st.characters()), max_size=30),
        # Long: 10,000 characters and around the columns' limits.
        st.builds(
            lambda unit, count: unit * count,
            st.sampled_from(["A", "7", "é", "\x00", "\U0001f600", "\u202e"]),
            st.sampled_from([17, 21, 33, 41, 65, 129, 256, 501, 10_000]),
        ),
        st.sampled_from(["", " ", "null", "NaN", "-0", "1e999", "\ud800\udc00", "\x00" * 3]),
    )


@cache
def plain_texts() -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)


@cache
def json_values(max_leaves: int = 4) -> st.SearchStrategy:
    """Any JSON value json.loads can give (NaN and Infinity included: it accepts them)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        hostile_texts(),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(hostile_texts(), children, max_size=3),
        ),
        max_leaves=max_leaves,
    )


def mostly(
    plausible: st.SearchStrategy, hostile: st.SearchStrategy, odds: int = 10
) -> st.SearchStrategy:
    """The plausible value but one time in `odds`, then the hostile one: hostility in every
    field would make every order an Error order at its first field. (Hypothesis draws the
    bounds of a range far more often than the middle: the middle value is the rare one.)"""
    rare = odds // 2
    return st.integers(min_value=0, max_value=odds - 1).flatmap(
        lambda roll: hostile if roll == rare else plausible
    )


@cache
def iso_datetimes() -> st.SearchStrategy[str]:
    from datetime import UTC, datetime

    return st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ).map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


@cache
def hostile_datetimes() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(
            [
                "0000-01-01T00:00:00Z",
                "0001-01-01T00:00:00+05:00",
                "9999-12-31T23:59:59-05:00",
                "10000-01-01T00:00:00Z",
                "2026-02-30T00:00:00Z",
                "2026-11-01T25:61:00Z",
                "2026-11-01T12:00:00+99:00",
                "2026-11-01T12:00:00",
                "1970-01-01T00:00:00Z",
                "tomorrow",
            ]
        ),
        hostile_texts(),
        json_values(),
    )


@cache
def plausible_amounts() -> st.SearchStrategy[str]:
    return st.decimals(min_value=0, max_value=10_000, places=2).map(str)


@cache
def hostile_amounts() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(
            ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "1e30", "-1", "-0.01", "12.345"]
        ),
        st.sampled_from(["1e-30", "99999999999999999", "4,99", "1_000", " 5 ", "0x10", "9" * 400]),
        # Exponents that overflow decimal arithmetic.
        st.sampled_from(["1e999999999", "-1e999999999", "1e-999999999", "0E-1000000000"]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        json_values(),
    )


@cache
def hostile_integers() -> st.SearchStrategy:
    return st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([-1, 2**31, 2**63, 10**30]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=0, max_value=10).map(str),
        json_values(),
    )


def _resolve(schema: dict) -> tuple[str | None, dict]:
    reference = schema.get("$ref")
    if reference:
        name = reference.rsplit("/", 1)[-1]
        merged = {**DEFINITIONS[name], **{k: v for k, v in schema.items() if k != "$ref"}}
        return name, merged
    return None, schema


def _possible_values(schema: dict) -> list[str]:
    if schema.get("enum"):
        return list(schema["enum"])
    match = POSSIBLE_VALUES.search(schema.get("description", ""))
    return VALUE.findall(match.group(1)) if match else []


# Identifiers Amazon formats: plausible ones look like Amazon's, so that pages keep them apart.
PLAUSIBLE_BY_PROPERTY = {
    "orderId": st.from_regex(r"9[0-9]{2}-[0-9]{7}-[0-9]{7}", fullmatch=True),
    "orderItemId": st.from_regex(r"[0-9]{14}", fullmatch=True),
    "packageReferenceId": st.from_regex(r"[1-9][0-9]{0,8}", fullmatch=True),
    "sellerSku": st.from_regex(r"[A-Z0-9-]{1,40}", fullmatch=True),
    "asin": st.from_regex(r"B0[A-Z0-9]{8}", fullmatch=True),
    "currencyCode": st.sampled_from(["USD", "EUR", "GBP", "JPY"]),
    "marketplaceId": st.sampled_from(["ATVPDKIKX0DER", "A1PA6795UKMFR9"]),
    "quantityOrdered": st.integers(min_value=0, max_value=5),
    "quantityFulfilled": st.integers(min_value=0, max_value=5),
    "quantity": st.integers(min_value=0, max_value=5),
}


def _scalar(schema: dict, name: str | None, definition: str | None, odds: int) -> st.SearchStrategy:
    kind = schema.get("type")
    values = _possible_values(schema)
    if definition == "Decimal":
        return mostly(plausible_amounts(), hostile_amounts(), odds)
    if name in PLAUSIBLE_BY_PROPERTY:
        hostile = hostile_integers() if kind == "integer" else hostile_texts() | json_values()
        return mostly(PLAUSIBLE_BY_PROPERTY[name], hostile, odds)
    if schema.get("format") == "date-time":
        return mostly(iso_datetimes(), hostile_datetimes(), odds)
    if kind == "string" and values:
        return mostly(st.sampled_from(values), hostile_texts() | json_values(), odds)
    if kind == "string":
        return mostly(plain_texts(), hostile_texts() | json_values(), odds)
    if kind == "integer":
        return mostly(st.integers(min_value=0, max_value=100), hostile_integers(), odds)
    if kind == "number":
        return mostly(st.floats(min_value=0, max_value=100), hostile_amounts(), odds)
    if kind == "boolean":
        return mostly(st.booleans(), json_values(), odds)
    return json_values()


_CACHE: dict[tuple[str, int], st.SearchStrategy] = {}
MAX_DEPTH = 7


def from_schema(
    schema: dict, *, odds: int, name: str | None = None, depth: int = 0
) -> st.SearchStrategy:
    """A strategy for values of `schema` (a definition of the model or a property of one),
    hostile one time in `odds` at every level."""
    definition, schema = _resolve(schema)
    cacheable = definition is not None and name is None
    if cacheable and (definition, odds) in _CACHE:
        return _CACHE[definition, odds]
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind == "object":
        strategy = _object(schema, depth, odds)
    elif kind == "array":
        items = dict(schema.get("items", {}))
        if _possible_values(schema) and not _possible_values(items):
            items["description"] = schema.get("description", "")
        element = from_schema(items, odds=odds, depth=depth + 1)
        size = 1 if name in NON_EMPTY else 0
        strategy = mostly(st.lists(element, min_size=size, max_size=3), json_values(), odds)
    else:
        strategy = _scalar(schema, name, definition, odds)
    if cacheable:
        _CACHE[definition, odds] = strategy
    return strategy


def _object(schema: dict, depth: int, odds: int) -> st.SearchStrategy:
    properties = schema.get("properties", {})
    required = [key for key in schema.get("required", []) if key in properties]
    # Deep down only what is required: the model nests far, the parser reads little there.
    optional_keys = [key for key in properties if key not in required and depth < MAX_DEPTH]
    return mostly(_shaped(properties, required, optional_keys, depth, odds), json_values(), odds)


# Optional in the model, but what Amazon sends whenever our searches ask for them
# (includedData BUYER, RECIPIENT, PROCEEDS, FULFILLMENT, PACKAGES) and what the parser reads: as
# good as required, so that most orders get that far.
USUALLY_SENT = {
    "buyer",
    "recipient",
    "deliveryAddress",
    "proceeds",
    "grandTotal",
    "breakdowns",
    "fulfillment",
    "fulfilledBy",
    "fulfillmentServiceLevel",
    "packages",
    "product",
    "sellerSku",
    "asin",
    "title",
    "price",
    "unitPrice",
    "packageStatus",
    "packageItems",
    "trackingNumber",
    "carrier",
}
# Lists Amazon never sends empty.
NON_EMPTY = {"orderItems"}


def _shaped(
    properties: dict, required: list[str], optional: list[str], depth: int, odds: int
) -> st.SearchStrategy[dict]:
    """Objects with the `required` properties and any of the `optional` ones; now and then a
    required one is missing, or a field Amazon's model does not know (its name hostile too)
    comes along."""
    required = [*required, *(key for key in optional if key in USUALLY_SENT)]
    optional = [key for key in optional if key not in USUALLY_SENT]
    documents = st.fixed_dictionaries(
        {
            key: from_schema(properties[key], odds=odds, name=key, depth=depth + 1)
            for key in required
        },
        optional={
            key: from_schema(properties[key], odds=odds, name=key, depth=depth + 1)
            for key in optional
        },
    )
    missing = st.lists(st.sampled_from(required), max_size=1) if required else st.just([])
    extra = st.dictionaries(hostile_texts(), json_values(max_leaves=2), max_size=2)
    return st.tuples(
        documents, mostly(st.just([]), missing, odds), mostly(st.just({}), extra, odds)
    ).map(
        lambda parts: {
            **{key: value for key, value in parts[0].items() if key not in parts[1]},
            **parts[2],
        }
    )


# How hostile an order is: one value in 4 (an order hostile all over), in 15, in 60 (an order
# with one or two odd values, the kind that must be stored whole, cleaned).
HOSTILITY_ODDS = (4, 15, 60)


@cache
def order_payloads() -> st.SearchStrategy[dict]:
    """Hostile `Order`s: objects always (a page's entries are), mostly with an id and dates."""
    order = DEFINITIONS["Order"]
    properties = order["properties"]
    required = list(order["required"])
    optional = [key for key in properties if key not in required]
    return st.one_of(*(_shaped(properties, required, optional, 0, odds) for odds in HOSTILITY_ODDS))


@cache
def _good_orders_json() -> str:
    from amazon_channel.tests.test_services_orders import order_payload

    return json.dumps([order_payload(number) for number in (801, 802, 803)])


def good_orders() -> list[dict]:
    """Amazon's example order under three order numbers: the page's well-behaved neighbours."""
    return json.loads(_good_orders_json())


class FallbackSeen(logging.Handler):
    """Catches the upsert's warning that the database refused a page (parse let data through)."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        if "refused" in record.getMessage():
            self.messages.append(record.getMessage())


@dataclass
class PageOutcome:
    stored: int = 0
    errors: int = 0
    unreadable: int = 0
    failures: list[str] = field(default_factory=list)


def page_check(hostile_payloads: list[dict]) -> PageOutcome:
    """Store a page of Amazon's example orders with the hostile ones among them, through the
    real parse and upsert path (and Commerce's import, as a sync does), twice; return what
    happened and every broken guarantee in `failures`:

    no exception escapes; the database never refuses the page (the parser made it storable);
    every good order lands whole (status, items, no problem); each hostile order is unreadable
    (counted, nothing stored) or stored once, whole with its items, or as an Error order with
    a bounded Order Note and no Commerce order; a second storing changes no count.

    Runs in the caller's transaction; the caller rolls it back.
    """
    from amazon_channel.models import AmazonOrder, AmazonOrderStatus
    from amazon_channel.orders.commerce_import import commerce_orders_follow
    from amazon_channel.orders.upsert import amazon_orders_upsert
    from amazon_channel.spapi.order_payload import UnreadableOrder, parse_order
    from amazon_channel.tests.factories import StoreFactory
    from commerce_orders.tests.factories import ProductFactory

    outcome = PageOutcome()
    good = good_orders()
    page = [good[0], *hostile_payloads[:1], good[1], *hostile_payloads[1:], good[2]]
    store = StoreFactory(is_import_enabled=True)
    for item in good[0]["orderItems"]:
        ProductFactory(sku=item["product"]["sellerSku"], quantity_in_stock=10**6)
    seen = FallbackSeen()
    logger = logging.getLogger("amazon_channel.orders.upsert")
    logger.addHandler(seen)
    try:
        expected = {}
        unreadable = 0
        for payload in hostile_payloads:
            try:
                expected_order = parse_order(copy.deepcopy(payload))
            except UnreadableOrder:
                unreadable += 1
                continue
            # Two of the page's payloads may be one order: the newest is stored (the first of
            # two equally new ones), as amazon_orders_upsert decides.
            known = expected.get(expected_order.amazon_order_id)
            if known is None or expected_order.last_update_date > known.last_update_date:
                expected[expected_order.amazon_order_id] = expected_order
        result = amazon_orders_upsert(store=store, payloads=copy.deepcopy(page))
        # Commerce's import for the hostile orders (the good ones' import is known to work and
        # costs two thirds of a page's time).
        hostile_ids = AmazonOrder.objects.filter(
            store=store, pk__in=result.changed_order_ids, amazon_order_id__in=list(expected)
        ).values_list("pk", flat=True)
        commerce_orders_follow(store=store, order_ids=list(hostile_ids))
        again = amazon_orders_upsert(store=store, payloads=copy.deepcopy(page))
    except Exception as error:  # noqa: BLE001 - reported as the first broken guarantee
        outcome.failures.append(f"{type(error).__name__}: {str(error)[:300]}")
        return outcome
    finally:
        logger.removeHandler(seen)
    failures = outcome.failures
    if seen.messages:
        failures.append(f"the database refused data: {seen.messages[0][:300]}")
    if result.unreadable != unreadable:
        failures.append(f"unreadable {result.unreadable}, expected {unreadable}")
    count = AmazonOrder.objects.filter(store=store).count()
    if count != len(good) + len(expected):
        failures.append(f"{count} orders stored, expected {len(good) + len(expected)}")
    if again.created:
        failures.append(f"a second storing created {again.created} orders")
    for payload in good:
        order = AmazonOrder.objects.filter(store=store, amazon_order_id=payload["orderId"]).first()
        if order is None or order.status != AmazonOrderStatus.UNSHIPPED:
            failures.append(f"good order {payload['orderId']} did not land: {order}")
        elif order.items.count() != len(payload["orderItems"]) or order.needs_attention:
            failures.append(f"good order {payload['orderId']} landed without its items")
    for order_id, parsed in expected.items():
        order = (
            AmazonOrder.objects.filter(store=store, amazon_order_id=order_id)
            .prefetch_related("items")
            .first()
        )
        if order is None:
            failures.append(f"hostile order {order_id[:40]!r} was not stored")
            continue
        outcome.stored += 1
        if len(notes_text(order.order_notes)) > NOTE_LIMIT:
            failures.append(f"an Order Note of {len(notes_text(order.order_notes))} characters")
        if parsed.fields["status"] == AmazonOrderStatus.ERROR:
            outcome.errors += 1
            if order.status != AmazonOrderStatus.ERROR or not order.needs_attention:
                failures.append(f"Error order stored as {order.status}")
            if order.commerce_order_id is not None:
                failures.append("an Error order got a Commerce order")
            if "cannot be stored" not in notes_text(order.order_notes):
                failures.append("an Error order without its note")
        else:
            stored_items = {item.order_item_id for item in order.items.all()}
            if stored_items != {item["order_item_id"] for item in parsed.items}:
                failures.append("an order stored without all its items")
            if order.status == AmazonOrderStatus.ERROR:
                failures.append("an order stored as Error without a reason")
    outcome.unreadable = unreadable
    return outcome
