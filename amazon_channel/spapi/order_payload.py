"""Reading an Orders API 2026-01-01 `Order` into our fields, saying plainly what is surprising.

A surprising order is still kept: its problems go to Order Notes and the order is read again on
the next sync. What Amazon withholds by design (prices of a pending order, the address of an
order it fulfils, the buyer's personal data before payment) is explained in Order Notes too, but
needs no attention: the order comes back with the next search once Amazon changes it. An order
the merchant must ship whose address lacks the recipient's name, street or postal code is a
problem, though: Amazon withholds them from apps without the restricted role. Nothing here
touches the database.

Amazon's data is hostile input, and what is read here is written by one multi-row statement per
page: a value the database refuses would cost the whole page. So every value leaves this module
storable. NUL and the other control characters are removed (PostgreSQL refuses NUL in text and
jsonb), and lone surrogates replaced, wherever they come, the raw payload included. A value that
cannot be stored as Amazon sent it (an identifier longer than its column or than Amazon's own
limit, an unknown status or fulfillment channel, an impossible date, amount or quantity, a
value of the wrong type) makes the order an Error order (`ParsedOrder.is_error`): it is kept,
with status Error and an Order Note quoting (briefly) what Amazon sent, never imported into
Commerce, and read again on every sync. Text that is only too long for its column (a title, a
name) is cut, with a note. The limits are read from the models' fields, so they cannot drift.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

import orjson
from django.db import connection, models
from django.utils.dateparse import parse_datetime

from amazon_channel.fields import SerializedJSON, json_bytes
from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderItem,
    AmazonOrderPackage,
    AmazonOrderStatus,
    FulfillmentChannel,
)
from amazon_channel.notes import note

STATUS_BY_FULFILLMENT_STATUS = {
    "PENDING_AVAILABILITY": AmazonOrderStatus.PENDING_AVAILABILITY,
    "PENDING": AmazonOrderStatus.PENDING,
    "UNSHIPPED": AmazonOrderStatus.UNSHIPPED,
    "PARTIALLY_SHIPPED": AmazonOrderStatus.PARTIALLY_SHIPPED,
    "SHIPPED": AmazonOrderStatus.SHIPPED,
    "CANCELLED": AmazonOrderStatus.CANCELED,
    "UNFULFILLABLE": AmazonOrderStatus.UNFULFILLABLE,
}
CHANNEL_BY_FULFILLED_BY = {
    "MERCHANT": FulfillmentChannel.MERCHANT,
    "AMAZON": FulfillmentChannel.AMAZON,
}
PRICELESS_STATUSES = {AmazonOrderStatus.PENDING, AmazonOrderStatus.PENDING_AVAILABILITY}
# The merchant still has to ship these: the parcel needs the recipient's whole address.
TO_SHIP_STATUSES = {AmazonOrderStatus.UNSHIPPED, AmazonOrderStatus.PARTIALLY_SHIPPED}
PARCEL_ADDRESS_PARTS = (
    ("name", note("part.address_name")),
    ("addressLine1", note("part.address_street")),
    ("postalCode", note("part.address_postal_code")),
)
ADDRESS_KEYS = frozenset(
    (
        "name",
        "companyName",
        "addressLine1",
        "addressLine2",
        "addressLine3",
        "city",
        "districtOrCounty",
        "stateOrRegion",
        "postalCode",
        "countryCode",
        "phone",
    )
)


# How the values are named in Order Notes (translated when a note is written).
ITEM_ID_LABEL = note("part.item_id_label")
PACKAGE_REFERENCE_LABEL = note("part.package_reference_label")
ORDER_NUMBER_LABEL = note("part.order_number_label")
CURRENCY_LABEL = note("part.currency_label")
ITEM_LABEL = note("part.item_label")
GRAND_TOTAL_LABEL = note("part.grand_total_label")
MARKETPLACE_ID_LABEL = note("part.marketplace_id_label")
SERVICE_LEVEL_LABEL = note("part.service_level_label")
BUYER_NAME_LABEL = note("part.buyer_name_label")
BUYER_EMAIL_LABEL = note("part.buyer_email_label")
BUYER_CANCELLATION_REASON_LABEL = note("part.buyer_cancellation_reason_label")
PACKAGE_LABEL = note("part.package_label")


def _lengths(model: type[models.Model]) -> dict[str, int]:
    """The max_length of each text column of `model`: what the bulk write may hold."""
    return {
        model_field.name: model_field.max_length
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, models.CharField)
    }


# Amazon's own limit on a seller SKU: SKUType in amzn-base.xsd, the base schema of its XML feeds
# (the order acknowledgement and fulfillment feeds among them), is an xsd:normalizedString with
# minLength 1 and maxLength 40. A longer one cannot be a real SKU.
AMAZON_SKU_LENGTH = 40
ORDER_LENGTHS = _lengths(AmazonOrder)
ITEM_LENGTHS = _lengths(AmazonOrderItem)
ITEM_LENGTHS["seller_sku"] = min(ITEM_LENGTHS["seller_sku"], AMAZON_SKU_LENGTH)
PACKAGE_LENGTHS = _lengths(AmazonOrderPackage)

MONEY_FIELDS = (
    AmazonOrder._meta.get_field("order_total"),
    *(
        AmazonOrderItem._meta.get_field(name)
        for name in ("item_price", "item_tax", "shipping_price")
    ),
)
# What every money column holds: amounts below 10 ** (max_digits - decimal_places), in cents.
MONEY_PLACES = min(money_field.decimal_places for money_field in MONEY_FIELDS)
MONEY_LIMIT = min(
    Decimal(10) ** (money_field.max_digits - money_field.decimal_places)
    for money_field in MONEY_FIELDS
)
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
ZERO = Decimal(0).quantize(MONEY_QUANTUM)

# Amazon took its first order in 1995; nothing it sends is dated after 2100. Outside these, a
# date is garbage (and years 1 or 9999 overflow once moved to another time zone).
EARLIEST_DATE = datetime(1995, 1, 1, tzinfo=UTC)
LATEST_DATE = datetime(2100, 1, 1, tzinfo=UTC)

# NUL, the other C0 controls and DEL have no place in a column: PostgreSQL refuses NUL in text and
# jsonb, the others hide in what a merchant reads. Lone surrogates (JSON "\ud800") cannot be
# encoded in UTF-8 at all. Every column filled here holds one line (ids, names, titles), so tabs
# and line breaks become spaces; the raw payload keeps them (it loses only NUL and surrogates).
_UNSAFE_IN_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_UNSAFE_IN_DOCUMENT = re.compile("[\x00\ud800-\udfff]")
EXCERPT_LENGTH = 40
# How much of an over-long key is read (and digested): beyond, no real key ever went.
MAX_KEY_LENGTH = 100_000


def _replacement(match: re.Match) -> str:
    character = match.group()
    if "\ud800" <= character <= "\udfff":
        return "\ufffd"
    return " " if character in "\t\n\r" else ""


def _is_safe_in_line(text: str) -> bool:
    """Whether `text` holds none of _UNSAFE_IN_LINE. Printable text holds none (controls and
    surrogates are not printable), and saying so is quicker than searching."""
    return text.isprintable() or _UNSAFE_IN_LINE.search(text) is None


def clean_text(text: str) -> str:
    """`text` on one line: without NUL and control characters (tabs and line breaks become
    spaces), lone surrogates replaced by U+FFFD."""
    if _is_safe_in_line(text):
        return text
    return _UNSAFE_IN_LINE.sub(_replacement, text)


def _clean_string(text: str) -> str:
    if _UNSAFE_IN_DOCUMENT.search(text) is None:
        return text
    return _UNSAFE_IN_DOCUMENT.sub(_replacement, text)


def _clean_deep(value):
    if isinstance(value, str):
        return _clean_string(value)
    if isinstance(value, dict):
        return {_clean_deep(key): _clean_deep(entry) for key, entry in value.items()}
    if isinstance(value, list):
        return [_clean_deep(entry) for entry in value]
    return value


def clean_document(document: dict) -> dict:
    """The payload as Amazon sent it, but for NUL (removed) and lone surrogates (replaced): the
    raw payload is stored as JSON text, which must stay valid UTF-8 and castable to jsonb.
    orjson refuses surrogates and writes NUL as \\u0000, so its text tells whether the document
    must be walked; a clean one comes back with that text (SerializedJSON), stored as it is."""
    try:
        # What Amazon sends (text keys, JSON values) orjson writes twice as fast without the
        # options json_bytes needs for the rest (other keys, datetimes), and the same text.
        text = orjson.dumps(document, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:  # orjson.JSONEncodeError among them
        try:
            text = json_bytes(document)
        except (orjson.JSONEncodeError, TypeError):
            return _clean_deep(document)
    # A backslash first: most payloads have none, and looking for one byte is quicker.
    if b"\\" in text and b"\\u0000" in text:
        return _clean_deep(document)
    return SerializedJSON(document, text.decode())


@cache
def quantity_limit() -> int:
    """The largest count the quantity columns hold on this database."""
    quantity_field = AmazonOrderItem._meta.get_field("quantity_ordered")
    return connection.ops.integer_field_range(quantity_field.get_internal_type())[1]


class UnreadableOrder(ValueError):
    """The payload lacks what identifies an order (id, dates): it cannot be stored at all."""


@dataclass
class ParsedOrder:
    amazon_order_id: str
    last_update_date: datetime
    fields: dict
    items: list[dict]
    packages: list[dict]
    # What needs fixing: the order is flagged and read again on the next sync. Both lists hold
    # notes (commerce_orders.notes), shown in the reader's language.
    problems: list[dict] = field(default_factory=list)
    # What is normal but would surprise a merchant: written in Order Notes, not flagged.
    notes: list[dict] = field(default_factory=list)
    # A value could not be stored as Amazon sent it: status Error, never imported into Commerce.
    is_error: bool = False
    # Amazon withheld parts of the address the merchant's parcel needs: a problem only while
    # the address written lacks them (the merchant may complete it, services/orders.py).
    withheld_address_problem: dict | None = None


def _excerpt(value) -> str | dict:
    """What Amazon sent, quoted briefly and safely: a repr (controls and bidirectional marks
    show escaped) of at most EXCERPT_LENGTH characters, with the length of a longer text."""
    if isinstance(value, str):
        if len(value) <= EXCERPT_LENGTH:
            return repr(value)
        return note("part.excerpt", start=repr(value[:EXCERPT_LENGTH]), count=len(value))
    if isinstance(value, dict | list):
        return note("part.json_object" if isinstance(value, dict) else "part.json_array")
    text = repr(value)
    return text if len(text) <= EXCERPT_LENGTH else text[:EXCERPT_LENGTH] + "…"


def _as_text(value) -> str | None:
    """Text as Amazon sends it; an integer (an id sent as a number) as its digits; None for
    anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # beyond Python's 4,300 digits
            return None
    return None


def _is_absent(value) -> bool:
    return value is None or (isinstance(value, str) and value == "")


@dataclass
class _Reading:
    """What a payload is read against: the order's currency, and where to say what is wrong."""

    currency: str
    problems: list[dict]
    notes: list[dict] = field(default_factory=list)
    is_error: bool = False

    def unstorable(self, message: dict) -> None:
        """A value cannot be stored as Amazon sent it: said, and the order becomes Error."""
        self.problems.append(message)
        self.is_error = True

    def identifier(self, value, *, what: str, length: int) -> str:
        """An identifier, whole or flagged: cleaned; one of another type, or longer than
        `length`, makes the order an Error order (cut here, so that the row can be stored)."""
        if type(value) is str and len(value) <= length and _is_safe_in_line(value):
            return value  # the common case, first: every order has dozens of these
        text = _as_text(value)
        if text is None:
            if not _is_absent(value):
                self.unstorable(
                    note("order.not_identifier", what=_label(what), value=_excerpt(value))
                )
            return ""
        text = clean_text(text)
        if len(text) > length:
            self.unstorable(
                note("order.too_long", what=_label(what), value=_excerpt(text), limit=length)
            )
            return text[:length]
        return text

    def key(self, value, *, what: str, length: int) -> str:
        """An identifier that is a row's key (order number, item id, package reference):
        cleaned; "" for one of another type (said, Error); one longer than `length` makes the
        order an Error order and is stored under its first characters and a digest of the whole,
        so that two different ones never share a row and the same one finds its row again."""
        text = self.identifier(value, what=_label(what), length=MAX_KEY_LENGTH)
        if len(text) > length:
            self.unstorable(
                note("order.too_long", what=_label(what), value=_excerpt(text), limit=length)
            )
            digest = hashlib.sha256(text.encode()).hexdigest()[:11]
            return f"{text[: length - 12]}~{digest}"
        return text

    def text(
        self,
        value,
        *,
        what: str,
        length: int,
        is_personal: bool = False,
    ) -> str:
        """Free text: cleaned, and cut to `length` with a note when longer. The note quotes
        nothing of personal data (the buyer's name and email): it gives the length only."""
        if type(value) is str and len(value) <= length and _is_safe_in_line(value):
            return value
        text = _as_text(value)
        if text is None:
            if not _is_absent(value):
                self.notes.append(
                    note(
                        "order.not_text",
                        what=_label(what),
                        value=note("part.a_value") if is_personal else _excerpt(value),
                    )
                )
            return ""
        text = clean_text(text)
        if len(text) > length:
            self.notes.append(
                note("order.text_cut", what=_label(what), count=len(text), limit=length)
            )
            return text[:length]
        return text

    def timestamp(self, value, *, what: str) -> datetime | None:
        """An aware UTC datetime; None when Amazon sent none. One that is not ISO 8601 or not
        possible (before 1995, after 2100) makes the order an Error order. Amazon's times are
        UTC: one without an offset is read as UTC."""
        if _is_absent(value):
            return None
        parsed = None
        if isinstance(value, str):
            try:
                # Amazon's ISO 8601 first (fromisoformat reads it), then what Django reads.
                try:
                    parsed = datetime.fromisoformat(value)
                except ValueError:
                    parsed = parse_datetime(value)
                if parsed is not None:
                    if parsed.tzinfo is None:
                        parsed = parsed.replace(tzinfo=UTC)
                    parsed = parsed.astimezone(UTC)
            except (ValueError, OverflowError):
                parsed = None
        if parsed is None or not EARLIEST_DATE <= parsed < LATEST_DATE:
            self.unstorable(note("order.not_date", what=_label(what), value=_excerpt(value)))
            return None
        return parsed

    def amount(self, money, *, what: str, is_signed: bool = False) -> Decimal | None:
        """A Money's amount in cents; None when Amazon sent none. One that is not a number,
        has more decimals than cents, is too large for the columns or (unless `is_signed`)
        negative is said and makes the order an Error order: it is left out."""
        if _is_absent(money):
            return None
        amount = money.get("amount") if isinstance(money, dict) else money
        if type(amount) is str and type(money) is dict:
            try:  # the common case, first: a plain amount in cents
                value = Decimal(amount)
                if value.is_finite() and value.copy_abs() < MONEY_LIMIT:
                    cents = _cents(value)
                    if cents is not None and (is_signed or not cents.is_signed()):
                        return cents
            except InvalidOperation:
                pass
        if _is_absent(amount):
            return None
        reason = None
        value = None
        if not isinstance(money, dict) or isinstance(amount, bool):
            reason = note("part.not_money")
        elif not isinstance(amount, str | int | float):
            reason = note("part.not_number")
        else:
            try:
                value = Decimal(str(amount))
            except (InvalidOperation, ValueError):
                reason = note("part.not_number")
        if value is not None:
            # Exact comparisons only: arithmetic on 1e999999999 overflows the decimal context.
            if not value.is_finite():
                reason = note("part.not_number")
            elif value.copy_abs() >= MONEY_LIMIT:
                reason = note("part.too_large")
            else:
                cents = _cents(value)
                if cents is None:
                    reason = note("part.decimal_places", places=MONEY_PLACES)
                elif cents.is_signed() and not is_signed:
                    reason = note("part.negative")
                else:
                    return cents
        self.unstorable(
            note("order.amount_left_out", what=_label(what), value=_excerpt(amount), reason=reason)
        )
        return None

    def quantity(self, value, *, what: str) -> int | None:
        """A count of units; None when Amazon sent none. One that is not a whole number from 0
        to what the columns hold makes the order an Error order."""
        if value is None:
            return None
        is_count = isinstance(value, int) and not isinstance(value, bool)
        if is_count and 0 <= value <= quantity_limit():
            return value
        self.unstorable(note("order.quantity_unstorable", what=_label(what), value=_excerpt(value)))
        return None


def _part(where: dict, part) -> tuple:
    """ "Item 1: the SKU": what of an item or package a note is about, as a (where, part) pair
    made a note only when a note is written (most values are fine: building a label for each
    would cost every order, and a pair costs less than any other object)."""
    return (where, part)


def _label(what):
    """The note a label stands for: a deferred item or package part, or the label itself."""
    if type(what) is tuple:
        where, part = what
        return note("part.of", where=where, part=_label(part))
    return what


@cache
def _kind_amount_label(kind: str) -> dict:
    """ "the ITEM amount": one of BREAKDOWN_KINDS, built once each."""
    return note("part.kind_amount", kind=kind)


@cache
def _fixed(code: str) -> dict:
    """A note without parameters, built once (labels such as "the SKU")."""
    return note(code)


def _cents(value: Decimal) -> Decimal | None:
    """A finite amount below MONEY_LIMIT in cents; None when that would change it."""
    if value.is_zero():
        return ZERO  # -0 too
    if value.copy_abs() < MONEY_QUANTUM:
        return None
    cents = value.quantize(MONEY_QUANTUM)
    return cents if cents == value else None


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _enum_key(value) -> str | None:
    return value if isinstance(value, str) else None


# The kinds of an item's proceeds breakdown that are stored: its price, tax and shipping.
BREAKDOWN_KINDS = ("ITEM", "TAX", "SHIPPING")


def _breakdowns(breakdowns, reading: _Reading, where: dict) -> dict[str, Decimal | None]:
    """The sum of each kind's entries of a proceeds breakdown, None for a kind without any. An
    entry whose amount cannot be money is left out and makes the order an Error order; one in
    another currency than the order's is left out and said in `reading.problems`: adding it
    would make the totals wrong without a word."""
    amounts: dict[str, list[Decimal]] = {kind: [] for kind in BREAKDOWN_KINDS}
    for entry in _list(breakdowns):
        kind = entry.get("type") if isinstance(entry, dict) else None
        if not isinstance(kind, str) or kind not in amounts:
            continue
        subtotal = _dict(entry.get("subtotal"))
        amount = reading.amount(subtotal, what=_part(where, _kind_amount_label(kind)))
        if amount is None:
            continue
        currency = _as_text(subtotal.get("currencyCode")) or ""
        if reading.currency and currency and currency != reading.currency:
            shown = currency if currency.isalnum() and len(currency) <= 8 else _excerpt(currency)
            reading.problems.append(
                note(
                    "order.other_currency",
                    where=where,
                    kind=kind,
                    amount=amount,
                    currency=shown,
                    order_currency=reading.currency,
                )
            )
        else:
            amounts[kind].append(amount)
    totals: dict[str, Decimal | None] = {}
    for kind, found in amounts.items():
        total = sum(found, ZERO) if found else None
        if total is not None and abs(total) >= MONEY_LIMIT:
            reading.unstorable(note("order.amounts_too_large", where=where, kind=kind))
            total = None
        totals[kind] = total
    return totals


def _item(payload: dict, reading: _Reading) -> dict | None:
    problems = reading.problems
    raw_id = payload.get("orderItemId")
    if _is_absent(raw_id):
        problems.append(note("order.item_without_id"))
        return None
    item_id = reading.key(raw_id, what=ITEM_ID_LABEL, length=ITEM_LENGTHS["order_item_id"])
    if not item_id:
        return None
    where = note("part.item", id=item_id)
    product = _dict(payload.get("product"))
    proceeds = _dict(payload.get("proceeds"))
    fulfillment = _dict(payload.get("fulfillment"))
    condition = _dict(product.get("condition"))
    quantity_ordered = reading.quantity(
        payload.get("quantityOrdered"), what=_part(where, "quantityOrdered")
    )
    if quantity_ordered is None:
        problems.append(note("order.item_without_quantity", where=where))
        quantity_ordered = 0
    quantity_shipped = reading.quantity(
        fulfillment.get("quantityFulfilled"), what=_part(where, "quantityFulfilled")
    )
    quantity_shipped = quantity_shipped or 0
    if quantity_shipped > quantity_ordered:
        problems.append(
            note(
                "order.item_shipped_more",
                where=where,
                shipped=quantity_shipped,
                ordered=quantity_ordered,
            )
        )
        quantity_shipped = quantity_ordered
    seller_sku = reading.identifier(
        product.get("sellerSku"),
        what=_part(where, _fixed("part.sku")),
        length=ITEM_LENGTHS["seller_sku"],
    )
    if not seller_sku:
        problems.append(note("order.item_without_sku", where=where))
    breakdowns = proceeds.get("breakdowns")
    unit_price = reading.amount(
        _dict(product.get("price")).get("unitPrice"), what=_part(where, _fixed("part.unit_price"))
    )
    totals = _breakdowns(breakdowns, reading, where)
    item_price = totals["ITEM"]
    if item_price is None and unit_price is not None:
        item_price = unit_price * quantity_ordered
        if item_price >= MONEY_LIMIT:
            reading.unstorable(note("order.item_price_too_large", where=where))
            item_price = None
    return {
        "order_item_id": item_id,
        "asin": reading.identifier(
            product.get("asin"), what=_part(where, _fixed("part.asin")), length=ITEM_LENGTHS["asin"]
        ),
        "seller_sku": seller_sku,
        "title": reading.text(
            product.get("title"),
            what=_part(where, _fixed("part.title")),
            length=ITEM_LENGTHS["title"],
        ),
        "condition": reading.text(
            condition.get("conditionType"),
            what=_part(where, _fixed("part.condition")),
            length=ITEM_LENGTHS["condition"],
        ).title(),
        "quantity_ordered": quantity_ordered,
        "quantity_shipped": quantity_shipped,
        "item_price": item_price,
        "item_tax": totals["TAX"],
        # Amazon carries shipping per item (ItemProceedsBreakdown SHIPPING); the order's
        # SHIPPING is their sum, so reading the items' never counts it twice.
        "shipping_price": totals["SHIPPING"],
    }


def _package_items(entries, reading: _Reading, where: dict) -> list[dict]:
    items = []
    for entry in _list(entries):
        if not isinstance(entry, dict):
            continue
        item_id = reading.identifier(
            entry.get("orderItemId"),
            what=_part(where, _fixed("part.an_item_id")),
            length=ITEM_LENGTHS["order_item_id"],
        )
        quantity = reading.quantity(
            entry.get("quantity"), what=_part(where, _fixed("part.a_quantity"))
        )
        items.append({"orderItemId": item_id or None, "quantity": quantity})
    return items


def _package(payload: dict, reading: _Reading) -> dict | None:
    raw_reference = payload.get("packageReferenceId")
    if _is_absent(raw_reference):
        return None
    reference = reading.key(
        raw_reference,
        what=PACKAGE_REFERENCE_LABEL,
        length=PACKAGE_LENGTHS["package_reference_id"],
    )
    if not reference:
        return None
    where = note("part.package", id=reference)
    return {
        "package_reference_id": reference,
        "carrier": reading.identifier(
            payload.get("carrier"),
            what=_part(where, _fixed("part.carrier")),
            length=PACKAGE_LENGTHS["carrier"],
        ),
        "shipping_service": reading.text(
            payload.get("shippingService"),
            what=_part(where, _fixed("part.shipping_service")),
            length=PACKAGE_LENGTHS["shipping_service"],
        ),
        "tracking_number": reading.identifier(
            payload.get("trackingNumber"),
            what=_part(where, _fixed("part.tracking_number")),
            length=PACKAGE_LENGTHS["tracking_number"],
        ),
        "ship_time": reading.timestamp(payload.get("shipTime"), what=_part(where, "shipTime")),
        "status": reading.identifier(
            _dict(payload.get("packageStatus")).get("status"),
            what=_part(where, _fixed("part.status")),
            length=PACKAGE_LENGTHS["status"],
        ),
        "items": _package_items(payload.get("packageItems"), reading, where),
    }


def _unique(entries: list[dict], key: str, reading: _Reading, what: dict) -> list[dict]:
    """The entries with distinct `key`s: Amazon sending one twice is impossible, and two rows
    with one key would fail the page's upsert; the later ones are left out, the order is Error."""
    seen: set[str] = set()
    unique = []
    for entry in entries:
        if entry[key] in seen:
            reading.unstorable(
                note("order.appears_twice", what=_label(what), id=_excerpt(entry[key]))
            )
            continue
        seen.add(entry[key])
        unique.append(entry)
    return unique


def _address(value) -> dict:
    """The delivery address's known parts that carry text, cleaned; numbers (a postal code sent
    as a number) are kept as text, anything else is dropped."""
    address = {}
    for key, part in _dict(value).items():
        if key not in ADDRESS_KEYS or isinstance(part, bool):
            continue
        text = part if type(part) is str else _as_text(part)
        if text is None and isinstance(part, float):
            text = repr(part)
        text = clean_text(text).strip() if text else ""
        if text:
            address[key] = text
    return address


def parcel_address_missing(address: dict) -> list[dict]:
    """The parts of a shipping address a parcel needs that it lacks (name, street, postal code),
    as notes."""
    return [part for key, part in PARCEL_ADDRESS_PARTS if not address.get(key)]


def _address_check(
    status: str, address: dict, problems: list[dict], notes: list[dict]
) -> dict | None:
    """What a merchant-fulfilled order's address says; returns the withheld-address problem of
    an order waiting for the merchant's parcel (None otherwise). Amazon shares the recipient's
    name, street and postal code only with apps holding the restricted Direct-to-Consumer
    Shipping role, and only for Unshipped, PartiallyShipped and Shipped orders (Access Orders PII,
    https://developer-docs.amazon.com/sp-api/docs/access-orders-pii); city, region and country
    come without them. An order waiting for the merchant's parcel cannot go without them."""
    parts = parcel_address_missing(address)
    if not parts:
        return None
    if status in TO_SHIP_STATUSES:
        return note("order.address_withheld", parts=parts)
    if status == AmazonOrderStatus.SHIPPED and not address:
        problems.append(note("order.no_address"))
    elif status == AmazonOrderStatus.SHIPPED:
        notes.append(note("order.address_withheld_shipped", parts=parts))
    elif status in PRICELESS_STATUSES:
        notes.append(note("order.address_after_payment"))
    return None


def _order_id(payload) -> str:
    """The order number to store the order under; raises UnreadableOrder without one."""
    if not isinstance(payload, dict):
        raise UnreadableOrder("An order that is not a JSON object was skipped.")
    text = _as_text(payload.get("orderId"))
    order_id = clean_text(text) if text else ""
    if not order_id:
        raise UnreadableOrder("An order without an orderId was skipped.")
    return order_id


def _cancellation_requests(entries: list) -> list[dict]:
    """The buyer's cancellation requests of the order's items."""
    requests = []
    for entry in entries:
        cancellation = _dict(_dict(entry).get("cancellation"))
        request = _dict(cancellation.get("cancellationRequest"))
        if request.get("requester") == "BUYER":
            requests.append(request)
    # A buyer who cancelled outright shows as an executed cancellation, with the reason there.
    for entry in entries:
        execution = _dict(_dict(_dict(entry).get("cancellation")).get("cancellationExecution"))
        if execution and execution.get("cancelledBy") == "BUYER":
            requests.append(execution)
    return requests


def parse_order(payload: dict) -> ParsedOrder:
    """Map one `Order`. Raises UnreadableOrder when it has no id or dates to store it by; any
    other payload, however hostile, comes back storable (see the module's docstring)."""
    order_id = _order_id(payload)
    if _is_absent(payload.get("createdTime")) or _is_absent(payload.get("lastUpdatedTime")):
        raise UnreadableOrder(
            f"Order {order_id[:EXCERPT_LENGTH]!r} has no readable createdTime/lastUpdatedTime."
        )
    problems: list[dict] = []
    reading = _Reading(currency="", problems=problems)
    id_length = ORDER_LENGTHS["amazon_order_id"]
    order_id = reading.key(order_id, what=ORDER_NUMBER_LABEL, length=id_length)
    created = reading.timestamp(payload.get("createdTime"), what="createdTime")
    updated = reading.timestamp(payload.get("lastUpdatedTime"), what="lastUpdatedTime")
    # An impossible update time never wins over a stored one: any real read of the order does.
    updated = updated or EARLIEST_DATE
    created = created or updated

    fulfillment = _dict(payload.get("fulfillment"))
    raw_status = fulfillment.get("fulfillmentStatus")
    status = STATUS_BY_FULFILLMENT_STATUS.get(_enum_key(raw_status))
    if status is None:
        reading.unstorable(note("order.unknown_status", value=_excerpt(raw_status)))
    raw_channel = fulfillment.get("fulfilledBy")
    channel = CHANNEL_BY_FULFILLED_BY.get(_enum_key(raw_channel))
    if channel is None:
        # None sent is a gap to fill on the next read; a value we do not know is not storable.
        if _is_absent(raw_channel):
            problems.append(note("order.no_fulfillment_channel"))
        else:
            reading.unstorable(
                note("order.unknown_fulfillment_channel", value=_excerpt(raw_channel))
            )
        channel = FulfillmentChannel.MERCHANT

    buyer = _dict(payload.get("buyer"))
    address = _address(_dict(payload.get("recipient")).get("deliveryAddress"))
    proceeds = _dict(payload.get("proceeds"))
    grand_total = _dict(proceeds.get("grandTotal"))
    reading.currency = reading.identifier(
        grand_total.get("currencyCode"),
        what=CURRENCY_LABEL,
        length=ORDER_LENGTHS["currency"],
    )
    entries = _list(payload.get("orderItems"))
    items = _unique(
        [parsed for entry in entries if (parsed := _item(_dict(entry), reading)) is not None],
        "order_item_id",
        reading,
        ITEM_LABEL,
    )
    if not items:
        problems.append(note("order.no_items"))
    order_total = reading.amount(grand_total, what=GRAND_TOTAL_LABEL, is_signed=True)
    if order_total is not None and order_total < 0:
        reading.unstorable(note("order.negative_grand_total", amount=order_total))
        order_total = None
    if order_total is None and status not in PRICELESS_STATUSES:
        problems.append(note("order.no_grand_total"))
    notes: list[dict] = []
    is_priceless = order_total is None or any(item["item_price"] is None for item in items)
    if status in PRICELESS_STATUSES and is_priceless:
        # Amazon changes the order when it is paid, so the next search reads its prices.
        notes.append(note("order.priceless_pending"))
    withheld_address_problem = None
    if channel == FulfillmentChannel.MERCHANT:
        withheld_address_problem = _address_check(status, address, problems, notes)
    elif not address:
        notes.append(note("order.fulfilled_by_amazon"))
    buyer_requests = _cancellation_requests(entries)
    shipped = sum(item["quantity_shipped"] for item in items)
    ordered = sum(item["quantity_ordered"] for item in items)
    if ordered > quantity_limit():
        reading.unstorable(note("order.quantities_too_large"))
        shipped, ordered = min(shipped, quantity_limit()), min(ordered, quantity_limit())
    programs = {program for program in _list(payload.get("programs")) if isinstance(program, str)}
    lengths = ORDER_LENGTHS
    fields = {
        "marketplace_id": reading.identifier(
            _dict(payload.get("salesChannel")).get("marketplaceId"),
            what=MARKETPLACE_ID_LABEL,
            length=lengths["marketplace_id"],
        ),
        "status": status,
        "fulfillment_channel": channel,
        "purchase_date": created,
        "last_update_date": updated,
        "latest_ship_date": reading.timestamp(
            _dict(fulfillment.get("shipByWindow")).get("latestDateTime"),
            what="shipByWindow.latestDateTime",
        ),
        "ship_service_level": reading.text(
            fulfillment.get("fulfillmentServiceLevel"),
            what=SERVICE_LEVEL_LABEL,
            length=lengths["ship_service_level"],
        ),
        "buyer_name": reading.text(
            buyer.get("buyerName") or address.get("name", ""),
            what=BUYER_NAME_LABEL,
            length=lengths["buyer_name"],
            is_personal=True,
        ),
        "buyer_email": reading.text(
            buyer.get("buyerEmail"),
            what=BUYER_EMAIL_LABEL,
            length=lengths["buyer_email"],
            is_personal=True,
        ),
        "shipping_address": address,
        "order_total": order_total,
        "currency": reading.currency,
        "number_of_items_shipped": shipped,
        "number_of_items_unshipped": max(ordered - shipped, 0),
        "is_prime": "PRIME" in programs,
        "is_business_order": "AMAZON_BUSINESS" in programs,
        "is_premium_order": "PREMIUM" in programs,
        "is_replacement_order": any(
            _dict(associated).get("associationType") == "REPLACEMENT_ORIGINAL_ID"
            for associated in _list(payload.get("associatedOrders"))
        ),
        "is_buyer_requested_cancellation": bool(buyer_requests),
        "buyer_cancellation_reason": reading.text(
            buyer_requests[0].get("cancelReason"),
            what=BUYER_CANCELLATION_REASON_LABEL,
            length=lengths["buyer_cancellation_reason"],
        )
        if buyer_requests
        else "",
        "raw_payload": clean_document(payload),
    }
    packages = _unique(
        [
            parsed
            for entry in _list(payload.get("packages"))
            if isinstance(entry, dict) and (parsed := _package(entry, reading)) is not None
        ],
        "package_reference_id",
        reading,
        PACKAGE_LABEL,
    )
    if reading.is_error:
        fields["status"] = AmazonOrderStatus.ERROR
    return ParsedOrder(
        amazon_order_id=order_id,
        last_update_date=updated,
        fields=fields,
        items=items,
        packages=packages,
        problems=problems,
        notes=[*notes, *reading.notes],
        is_error=reading.is_error,
        withheld_address_problem=withheld_address_problem,
    )
