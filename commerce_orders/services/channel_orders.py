"""A page of a sales channel's orders made into Commerce orders at once, invoices included.

The bulk twin of order_create + invoice_create(capture_offline=True) + order_complete, for a
channel that imports its orders a page at a time: the rows it writes are the ones the three
services write one order after the other (same numbers, totals, quantities, history), in a
fixed number of queries per page instead of about 37 per order.

Numbers. Commerce order numbers (increment_id, when the caller gives none) and invoice numbers
must be gap-free: a merchant's auditor reads a missing invoice number as a deleted invoice. They
are allocated in one block per page (one UPDATE of each counter row, see _number_blocks) after
every order of the page that cannot be created has been set aside, in the same transaction as the
inserts: a block that rolls back rolls back with its orders, so no number is ever lost.

Locks, the same as order_create's, so that the bulk and the single path can run side by side:
the product rows of every SKU of the page (and those reserved under the page's orders) are
locked in primary-key order, then the page's existing channel orders are read. A creator of the
same channel order locks some of the same product rows, so it waits and then finds the order;
the unique constraint on (external_channel, external_order_id) stays the last word (a page that
hits it is retried whole, its numbers with it).
"""

import dataclasses
import datetime
from collections.abc import Sequence
from decimal import Decimal
from operator import attrgetter

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Upper
from django.utils import timezone

from commerce_orders.exceptions import CommerceOrderError, OrderNumberInUse, ProductUnavailable
from commerce_orders.models import (
    CommerceOrder,
    CommerceOrderEvent,
    CommerceOrderItem,
    CommerceSequence,
    Customer,
    Invoice,
    InvoiceItem,
    InvoiceState,
    OrderAction,
    OrderAddress,
    OrderState,
    Product,
    StockReservation,
)
from commerce_orders.notes import note
from commerce_orders.services.invoices import invoice_create, tax_share
from commerce_orders.services.orders import (
    AddressData,
    OrderLine,
    _validate_lines,
    money,
    order_complete,
    order_create,
)
from commerce_orders.services.rows import Rows
from commerce_orders.services.sequences import INVOICE_SEQUENCE, NUMBER_WIDTH, ORDER_SEQUENCE
from commerce_orders.services.stock import (
    order_stock_reference,
    products_lock,
    quantities_by_sku,
    salable_check,
)

# A page that meets a concurrent creator's row on a unique constraint is tried again whole.
ATTEMPTS = 3
# PositiveIntegerField and DecimalField(max_digits=14, decimal_places=2) limits.
QUANTITY_MAX = 2_147_483_647
MONEY_MAX = Decimal("999999999999.99")


@dataclasses.dataclass(frozen=True)
class ChannelOrderData:
    """What order_create takes for one channel order, and what follows it at once:
    `is_invoiced` = invoice_create(capture_offline=True, status=invoice_status) right after;
    `completion_notes` (not None) = then order_complete(notes=completion_notes)."""

    external_order_id: str
    increment_id: str | None
    customer_email: str
    customer_name: str
    create_customer_account: bool
    currency: str
    lines: Sequence[OrderLine]
    billing_address: AddressData
    shipping_address: AddressData
    payment_method: str
    po_number: str
    shipping_method: str
    shipping_amount: Decimal
    purchased_at: datetime.datetime | None = None
    status: str | None = None
    is_invoiced: bool = False
    invoice_status: str | None = None
    completion_notes: Sequence[dict] | None = None


@dataclasses.dataclass
class ChannelOrderOutcome:
    """One channel order's fate: created (`is_created`), already there (`order` only: nothing
    was written for it), or refused (`error`: ProductUnavailable, OrderNumberInUse, ValueError)."""

    data: ChannelOrderData
    order: CommerceOrder | None = None
    invoice: Invoice | None = None
    is_created: bool = False
    error: CommerceOrderError | ValueError | None = None


def _field_limits(model, names) -> list[tuple[str, int]]:
    return [(name, model._meta.get_field(name).max_length) for name in names]


_ORDER_LIMITS = _field_limits(
    CommerceOrder,
    (
        "customer_email",
        "customer_name",
        "currency",
        "payment_method",
        "po_number",
        "shipping_method",
        "status",
        "external_order_id",
    ),
)
_ADDRESS_LIMITS = _field_limits(
    OrderAddress, ("name", "street", "city", "region", "postal_code", "country_code", "phone")
)
_LINE_LIMITS = _field_limits(CommerceOrderItem, ("sku", "name", "external_item_id"))
_INCREMENT_ID_MAX = CommerceOrder._meta.get_field("increment_id").max_length


def _text_refused(values: object, limits: list[tuple[str, int | None]]) -> str | None:
    """Why the database would refuse one of these texts ("name is too long"), or None."""
    for name, limit in limits:
        value = getattr(values, name)
        if not value:
            continue
        if limit is not None and len(value) > limit:
            return f"{name} is too long"
        if "\x00" in value:  # PostgreSQL's text holds no NUL character
            return f"{name} contains a NUL character"
    return None


def _validate(data: ChannelOrderData, *, external_channel: str) -> None:
    """What order_create refuses, plus what the database would refuse (and so abort the whole
    page with): a text longer than its column or with a NUL, a quantity or an amount beyond its
    column."""
    _validate_lines(data.lines)
    if data.create_customer_account and not data.customer_email:
        raise ValueError("a customer account needs an email address")
    if data.completion_notes is not None and not data.is_invoiced:
        raise ValueError("an order is completed here only after it is invoiced")
    refusal = (
        _text_refused(data, _ORDER_LIMITS)
        or _text_refused(data.billing_address, _ADDRESS_LIMITS)
        or _text_refused(data.shipping_address, _ADDRESS_LIMITS)
        or next(filter(None, (_text_refused(line, _LINE_LIMITS) for line in data.lines)), None)
    )
    if refusal:
        raise ValueError(refusal)
    if len(external_channel) > 32 or len(data.invoice_status or "") > 32:
        raise ValueError("status is too long")
    if data.increment_id and len(data.increment_id) > _INCREMENT_ID_MAX:
        raise ValueError("increment_id is too long")
    for line in data.lines:
        if line.quantity > QUANTITY_MAX:
            raise ValueError(f"quantity {line.quantity} of {line.sku} is too large")
    subtotal = sum((line.price * line.quantity for line in data.lines), Decimal(0))
    tax = sum((line.tax_amount for line in data.lines), Decimal(0))
    if max(subtotal + tax + data.shipping_amount, *(line.price for line in data.lines)) > MONEY_MAX:
        raise ValueError("the order's total is too large")
    if data.shipping_amount < 0:
        raise ValueError("shipping must not be negative")


# ChannelOrderData's fields that are order_create's arguments.
_ORDER_CREATE_FIELDS = tuple(
    field.name
    for field in dataclasses.fields(ChannelOrderData)
    if field.name not in ("is_invoiced", "invoice_status", "completion_notes")
)


def channel_order_create(
    *, actor: AbstractBaseUser | None, external_channel: str, data: ChannelOrderData
) -> CommerceOrder:
    """One channel order as channel_orders_create makes it in a page (the same rows):
    order_create, then invoice_create and order_complete as `data` says. Raises what they
    raise, and ValueError for what the database would refuse (as channel_orders_create refuses
    it); call it inside the caller's transaction."""
    _validate(data, external_channel=external_channel)
    order = order_create(
        actor=actor,
        external_channel=external_channel,
        **{name: getattr(data, name) for name in _ORDER_CREATE_FIELDS},
    )
    if data.is_invoiced:
        invoice_create(actor=actor, order=order, capture_offline=True, status=data.invoice_status)
        if data.completion_notes is not None:
            order_complete(actor=actor, order=order, notes=data.completion_notes)
    return order


def channel_orders_create(
    *,
    actor: AbstractBaseUser | None,
    external_channel: str,
    orders: Sequence[ChannelOrderData],
) -> list[ChannelOrderOutcome]:
    """Create the Commerce orders of a page of `external_channel`'s orders; one outcome each,
    in the order given.

    Guarantees, order by order as order_create, invoice_create and order_complete would one after
    the other (the rows are the same):
    - idempotent on (external_channel, external_order_id): an existing order is returned in its
      outcome and nothing is written for it, also when two callers race;
    - stock is never oversold: an order gets stock only when every SKU is in the catalog with
      enough salable quantity (counting what is reserved under its order_stock_reference()),
      after the orders before it in `orders` took theirs; its reservation is released;
    - one order that cannot be created costs only itself: it gets its `error` and writes
      nothing, the others of the page are created;
    - order and invoice numbers are gap-free (allocated in one block per page, in the same
      transaction as the inserts);
    - a fixed number of queries per page (about 15, with no per-order savepoint), in one
      transaction: all of the page's created orders or none.
    Raises only what the database raises beyond a concurrent creator's unique conflict.
    """
    outcomes = [ChannelOrderOutcome(data=data) for data in orders]
    valid = []
    for outcome in outcomes:
        try:
            _validate(outcome.data, external_channel=external_channel)
        except ValueError as error:
            outcome.error = error
            continue
        valid.append(outcome)
    if not valid:
        return outcomes
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _create_locked(actor=actor, external_channel=external_channel, outcomes=valid)
            break
        except IntegrityError:
            # A concurrent creator committed a row this page also wrote: read again, retry.
            for outcome in valid:
                outcome.order = outcome.invoice = outcome.error = None
                outcome.is_created = False
            if attempt == ATTEMPTS:
                raise
    return outcomes


def _create_locked(*, actor, external_channel: str, outcomes: list[ChannelOrderOutcome]) -> None:
    references = [
        order_stock_reference(
            external_channel=external_channel, external_order_id=outcome.data.external_order_id
        )
        if outcome.data.external_order_id
        else ""
        for outcome in outcomes
    ]
    skus = {line.sku for outcome in outcomes for line in outcome.data.lines}
    products = products_lock(skus=skus, references=filter(None, references))
    held: dict[str, dict[int, StockReservation]] = {}
    if any(references) and products:
        for reservation in StockReservation.objects.filter(
            reference__in=list(filter(None, references)),
            product__in=[product.pk for product in products.values()],
        ):
            held.setdefault(reservation.reference, {})[reservation.product_id] = reservation
    # Read under the product locks: a concurrent creator of one of these orders has committed.
    external_ids = [outcome.data.external_order_id for outcome in outcomes]
    given_numbers = [outcome.data.increment_id for outcome in outcomes if outcome.data.increment_id]
    existing: dict[str, CommerceOrder] = {}
    numbers_in_use: set[str] = set()
    for order in CommerceOrder.objects.filter(
        Q(external_channel=external_channel, external_order_id__in=[i for i in external_ids if i])
        | Q(increment_id__in=given_numbers)
    ):
        numbers_in_use.add(order.increment_id)
        if order.external_channel == external_channel and order.external_order_id:
            existing[order.external_order_id] = order

    accepted: list[ChannelOrderOutcome] = []
    first_of: dict[str, ChannelOrderOutcome] = {}
    products_by_pk = {product.pk: product for product in products.values()}
    touched: dict[int, Product] = {}
    released: list[StockReservation] = []
    for outcome, reference in zip(outcomes, references, strict=True):
        data = outcome.data
        if data.external_order_id in existing:
            outcome.order = existing[data.external_order_id]
            continue
        if data.external_order_id and data.external_order_id in first_of:
            continue  # the same channel order twice in one page: the first one is it
        own = held.get(reference, {})
        wanted = quantities_by_sku(data.lines)
        try:
            salable_check(wanted=wanted, products=products, held=own)
        except ProductUnavailable as error:
            outcome.error = error
            continue
        if data.increment_id and data.increment_id in numbers_in_use:
            outcome.error = OrderNumberInUse(increment_id=data.increment_id)
            continue
        # What stock_deduct does, in memory: the rows are written once for the page.
        for sku, quantity in wanted.items():
            product = products[sku]
            product.quantity_in_stock -= quantity
            touched[product.pk] = product
        for product_id, reservation in own.items():
            product = products_by_pk[product_id]
            product.quantity_reserved -= reservation.quantity
            touched[product.pk] = product
            released.append(reservation)
        if data.increment_id:
            numbers_in_use.add(data.increment_id)
        if data.external_order_id:
            first_of[data.external_order_id] = outcome
        accepted.append(outcome)

    if accepted:
        _orders_write(
            actor=actor,
            external_channel=external_channel,
            accepted=accepted,
            products=products,
            numbers_in_use=numbers_in_use,
        )
        Product.objects.bulk_update(
            sorted(touched.values(), key=lambda product: product.pk),
            ["quantity_in_stock", "quantity_reserved"],
        )
        if released:
            StockReservation.objects.filter(pk__in=[row.pk for row in released]).delete()
    for outcome in outcomes:
        first = first_of.get(outcome.data.external_order_id)
        if first is not None and first is not outcome:
            outcome.order = first.order


def _number_blocks(counts: dict[str, int]) -> dict[str, int]:
    """Advance each named counter by its count in one statement; return each one's last value
    before the block (the block is last + 1 .. last + count). The counter rows stay locked until
    the transaction ends, as sequence_next_value's do."""
    counts = {name: count for name, count in counts.items() if count}
    if not counts:
        return {}
    quote = connection.ops.quote_name
    table = quote(CommerceSequence._meta.db_table)
    name, last_value = quote("name"), quote("last_value")
    # Names in the order of a single order's calls (order, then invoice): one lock order.
    rows = sorted(counts.items(), key=lambda row: (row[0] != ORDER_SEQUENCE, row[0]))
    values = ", ".join(["(%s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO {table} ({name}, {last_value}) VALUES {values} "  # noqa: S608 - names only
        f"ON CONFLICT ({name}) DO UPDATE SET {last_value} = {table}.{last_value} + "
        f"excluded.{last_value} RETURNING {name}, {last_value}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        returned = dict(cursor.fetchall())
    return {name: int(returned[name]) - count for name, count in counts.items()}


def _numbers(
    *, counts: dict[str, int], models: dict[str, type], taken: dict[str, set[str]]
) -> dict[str, list[str]]:
    """`counts[name]` free numbers of each sequence, in counter order, skipping numbers already
    used as `models[name].increment_id` (or in `taken[name]`), as document_number_next does."""
    found: dict[str, list[str]] = {name: [] for name in counts}
    missing = dict(counts)
    while any(missing.values()):
        starts = _number_blocks(missing)
        candidates = {
            name: [
                f"{value:0{NUMBER_WIDTH}d}" for value in range(start + 1, start + missing[name] + 1)
            ]
            for name, start in starts.items()
        }
        used = None
        for name, numbers in candidates.items():
            # Tagged with the sequence's name: an order's number does not take an invoice's.
            query = (
                models[name]
                .objects.filter(increment_id__in=numbers)
                .order_by()
                .annotate(sequence=Value(name, output_field=CharField()))
                .values_list("sequence", "increment_id")
            )
            used = query if used is None else used.union(query, all=True)
        in_use = set(used)
        for name, numbers in candidates.items():
            free = [
                number
                for number in numbers
                if (name, number) not in in_use and number not in taken.get(name, ())
            ]
            found[name].extend(free)
            missing[name] -= len(free)
    return found


def _customers(outcomes: list[ChannelOrderOutcome]) -> dict[str, Customer]:
    """The customer of each email (upper-cased), created when missing, as _customer_for does;
    the first order of a new buyer in the page names the account."""
    wanted: dict[str, ChannelOrderData] = {}
    for outcome in outcomes:
        if outcome.data.create_customer_account:
            wanted.setdefault(outcome.data.customer_email.upper(), outcome.data)
    if not wanted:
        return {}

    def read(keys) -> dict[str, Customer]:
        found: dict[str, Customer] = {}
        rows = (
            Customer.objects.alias(email_upper=Upper("email"))
            .filter(email_upper__in=list(keys))
            .order_by("pk")
        )
        for customer in rows:
            found.setdefault(customer.email.upper(), customer)
        return found

    customers = read(wanted)
    new = []
    for key, data in wanted.items():
        if key in customers:
            continue
        first_name, _space, last_name = data.customer_name.strip().rpartition(" ")
        if not first_name:
            first_name, last_name = last_name, ""
        new.append(
            Customer(
                email=data.customer_email,
                first_name=first_name[:120],
                last_name=last_name[:120],
            )
        )
    if new:
        # A concurrent creator's buyer wins the conflict; the read after finds either.
        Customer.objects.bulk_create(new, ignore_conflicts=True)
        customers.update(read(key for key in wanted if key not in customers))
    return customers


_ORDER_FIELDS = (
    "increment_id",
    "state",
    "status",
    "customer_id",
    "customer_email",
    "customer_name",
    "currency",
    "payment_method",
    "po_number",
    "shipping_method",
    "subtotal",
    "shipping_amount",
    "tax_amount",
    "grand_total",
    "total_paid",
    "external_channel",
    "external_order_id",
    "created_at",
)
_INVOICE_FIELDS = (
    "increment_id",
    "order_id",
    "state",
    "subtotal",
    "shipping_amount",
    "tax_amount",
    "grand_total",
)
ORDER_ROWS = Rows(CommerceOrder, _ORDER_FIELDS)
INVOICE_ROWS = Rows(Invoice, _INVOICE_FIELDS)
ADDRESS_ROWS = Rows(
    OrderAddress,
    (
        "order_id",
        "address_type",
        "name",
        "street",
        "city",
        "region",
        "postal_code",
        "country_code",
        "phone",
    ),
)
ITEM_ROWS = Rows(
    CommerceOrderItem,
    (
        "order_id",
        "product_id",
        "sku",
        "name",
        "external_item_id",
        "quantity_ordered",
        "quantity_invoiced",
        "quantity_shipped",
        "price",
        "tax_amount",
        "row_total",
    ),
)
INVOICE_ITEM_ROWS = Rows(
    InvoiceItem,
    ("invoice_id", "order_item_id", "sku", "name", "quantity", "price", "tax_amount", "row_total"),
)
EVENT_ROWS = Rows(
    CommerceOrderEvent,
    (
        "order_id",
        "actor_id",
        "action",
        "old_state",
        "new_state",
        "old_status",
        "new_status",
        "notes",
    ),
)


def _orders_write(
    *,
    actor,
    external_channel: str,
    accepted: list[ChannelOrderOutcome],
    products: dict[str, Product],
    numbers_in_use: set[str],
) -> None:
    """Write the accepted orders with their addresses, items, invoices and history: one INSERT
    per table (rows.Rows), the final quantities and states at once (nothing updated after)."""
    numbers = _numbers(
        counts={
            ORDER_SEQUENCE: sum(1 for outcome in accepted if not outcome.data.increment_id),
            INVOICE_SEQUENCE: sum(1 for outcome in accepted if outcome.data.is_invoiced),
        },
        models={ORDER_SEQUENCE: CommerceOrder, INVOICE_SEQUENCE: Invoice},
        taken={ORDER_SEQUENCE: numbers_in_use},
    )
    order_numbers = iter(numbers.get(ORDER_SEQUENCE, ()))
    invoice_numbers = iter(numbers.get(INVOICE_SEQUENCE, ()))
    customers = _customers(accepted)
    now = timezone.now()
    zero = Decimal("0.00")
    actor_id = actor.pk if actor is not None else None

    plans = []
    for outcome in accepted:
        data = outcome.data
        lines = data.lines
        is_complete = data.completion_notes is not None
        subtotal = money(sum((line.price * line.quantity for line in lines), Decimal(0)))
        tax_amount = money(sum((line.tax_amount for line in lines), Decimal(0)))
        shipping_amount = money(data.shipping_amount)
        placed_status = data.status or OrderState.NEW
        # (product id, sku, name, external id, ordered, invoiced, shipped, price, tax, row total)
        items = []
        for line in lines:
            price = money(line.price)
            items.append(
                (
                    products[line.sku].pk,
                    line.sku,
                    line.name,
                    line.external_item_id,
                    line.quantity,
                    # Invoiced (and shipped, once complete) at creation: nothing updated after.
                    line.quantity if data.is_invoiced else 0,
                    line.quantity if is_complete else 0,
                    price,
                    money(line.tax_amount),
                    money(line.price * line.quantity),
                )
            )
        invoice = invoice_lines = None
        state, status, total_paid = OrderState.NEW, placed_status, zero
        if data.is_invoiced:
            # (sku, name, quantity, price, tax, row total), as invoice_create bills every unit
            invoice_lines = [
                (
                    sku,
                    name,
                    ordered,
                    price,
                    tax_share(line_tax=tax, quantity_before=0, quantity=ordered, ordered=ordered),
                    money(price * ordered),
                )
                for _product, sku, name, _external, ordered, _i, _s, price, tax, _total in items
            ]
            invoice_subtotal = sum((line[5] for line in invoice_lines), zero)
            invoice_tax = sum((line[4] for line in invoice_lines), zero)
            invoice_shipping = max(shipping_amount - zero, zero)
            invoice = Invoice(
                increment_id=next(invoice_numbers),
                state=InvoiceState.PAID,
                subtotal=invoice_subtotal,
                shipping_amount=invoice_shipping,
                tax_amount=invoice_tax,
                grand_total=invoice_subtotal + invoice_tax + invoice_shipping,
                created_at=now,
            )
            state, status = OrderState.PROCESSING, data.invoice_status or OrderState.PROCESSING
            total_paid = invoice.grand_total
        invoiced_status = status
        if is_complete:
            state = status = OrderState.COMPLETE
        customer = customers[data.customer_email.upper()] if data.create_customer_account else None
        order = CommerceOrder(
            increment_id=data.increment_id or next(order_numbers),
            state=state,
            status=status,
            customer=customer,
            customer_email=data.customer_email,
            customer_name=data.customer_name,
            currency=data.currency,
            payment_method=data.payment_method,
            po_number=data.po_number,
            shipping_method=data.shipping_method,
            subtotal=subtotal,
            shipping_amount=shipping_amount,
            tax_amount=tax_amount,
            grand_total=subtotal + tax_amount + shipping_amount,
            total_paid=total_paid,
            external_channel=external_channel,
            external_order_id=data.external_order_id,
            created_at=data.purchased_at or now,
            updated_at=now,
        )
        outcome.order, outcome.invoice, outcome.is_created = order, invoice, True
        plans.append((data, order, items, invoice, invoice_lines, placed_status, invoiced_status))

    order_values = attrgetter(*_ORDER_FIELDS)
    order_ids = ORDER_ROWS.insert([order_values(plan[1]) for plan in plans])
    addresses, items, invoices, events = [], [], [], []
    for (data, order, order_items, invoice, _lines, placed, invoiced), order_id in zip(
        plans, order_ids, strict=True
    ):
        order.pk = order_id
        order._state.adding, order._state.db = False, "default"
        for address_type, address in (
            (OrderAddress.AddressType.BILLING, data.billing_address),
            (OrderAddress.AddressType.SHIPPING, data.shipping_address),
        ):
            addresses.append((order_id, address_type, *astuple_flat(address)))
        items.extend((order_id, *item) for item in order_items)
        placed_notes = (
            [
                note(
                    "commerce.order_placed",
                    channel=external_channel,
                    external_id=data.external_order_id,
                )
            ]
            if data.external_order_id
            else []
        )
        events.append(
            (order_id, actor_id, OrderAction.PLACE, "", OrderState.NEW, "", placed, placed_notes)
        )
        if invoice is not None:
            invoice.order = order
            invoices.append(invoice)
            invoiced_notes = [
                note(
                    "commerce.invoice_captured_offline",
                    number=invoice.increment_id,
                    amount=invoice.grand_total,
                    currency=order.currency,
                )
            ]
            events.append(
                (
                    order_id,
                    actor_id,
                    OrderAction.INVOICE,
                    OrderState.NEW,
                    OrderState.PROCESSING,
                    placed,
                    invoiced,
                    invoiced_notes,
                )
            )
        if data.completion_notes is not None:
            events.append(
                (
                    order_id,
                    actor_id,
                    OrderAction.COMPLETE,
                    OrderState.PROCESSING,
                    OrderState.COMPLETE,
                    invoiced,
                    OrderState.COMPLETE,
                    list(data.completion_notes),
                )
            )
    ADDRESS_ROWS.insert(addresses)
    item_ids = iter(ITEM_ROWS.insert(items))
    if invoices:
        invoice_values = attrgetter(*_INVOICE_FIELDS)
        invoice_ids = iter(INVOICE_ROWS.insert([invoice_values(invoice) for invoice in invoices]))
        invoice_items = []
        for _data, _order, order_items, invoice, lines, _placed, _invoiced in plans:
            ids = [next(item_ids) for _item in order_items]
            if invoice is None:
                continue
            invoice.pk = next(invoice_ids)
            invoice._state.adding, invoice._state.db = False, "default"
            invoice_items.extend(
                (invoice.pk, item_id, *line) for item_id, line in zip(ids, lines, strict=True)
            )
        INVOICE_ITEM_ROWS.insert(invoice_items)
    # In creation order per order (placed, invoiced, completed): the history reads by id.
    EVENT_ROWS.insert(events)


def astuple_flat(address: AddressData) -> tuple:
    """An address's values in the order of ADDRESS_ROWS' columns after the type."""
    return (
        address.name,
        address.street,
        address.city,
        address.region,
        address.postal_code,
        address.country_code,
        address.phone,
    )
