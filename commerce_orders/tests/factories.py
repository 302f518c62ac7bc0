import itertools
from decimal import Decimal

import factory

from commerce_orders.models import CommerceOrder, CommerceOrderItem, Customer, Product
from commerce_orders.services import AddressData, OrderLine, order_create


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("catch_phrase")
    price = Decimal("19.99")
    quantity_in_stock = 10


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class CommerceOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommerceOrder

    increment_id = factory.Sequence(lambda n: f"{n + 1:09d}")
    customer_email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    customer_name = factory.Faker("name")
    currency = "EUR"
    payment_method = "checkmo"
    subtotal = Decimal("19.99")
    grand_total = Decimal("19.99")


class CommerceOrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommerceOrderItem

    order = factory.SubFactory(CommerceOrderFactory)
    product = factory.SubFactory(ProductFactory)
    sku = factory.SelfAttribute("product.sku")
    name = factory.SelfAttribute("product.name")
    quantity_ordered = 1
    price = Decimal("19.99")
    row_total = Decimal("19.99")


class OrderLineFactory(factory.Factory):
    class Meta:
        model = OrderLine

    sku = factory.LazyFunction(lambda: ProductFactory().sku)
    name = "Catalog product"
    quantity = 1
    price = Decimal("10.00")
    tax_amount = Decimal("0.00")
    external_item_id = factory.Sequence(lambda n: f"item-{n}")


class AddressDataFactory(factory.Factory):
    class Meta:
        model = AddressData

    name = factory.Faker("name")
    street = factory.Faker("street_address")
    city = factory.Faker("city")
    region = ""
    postal_code = factory.Faker("postcode")
    country_code = "DE"
    phone = ""


_external_order_numbers = itertools.count(1)


def order_create_arguments(**overrides) -> dict:
    """Keyword arguments for order_create: one line of a fresh product, a new channel order."""
    arguments = {
        "actor": None,
        "external_channel": "amazon",
        "external_order_id": f"302-0000000-{next(_external_order_numbers):07d}",
        "increment_id": None,
        "customer_email": "buyer@marketplace.example",
        "customer_name": "Erika Mustermann",
        "create_customer_account": False,
        "currency": "EUR",
        "billing_address": AddressDataFactory(),
        "shipping_address": AddressDataFactory(),
        "payment_method": "amazonpayment",
        "po_number": "",
        "shipping_method": "Standard",
        "shipping_amount": Decimal("0.00"),
    }
    arguments.update(overrides)
    if "lines" not in arguments:
        arguments["lines"] = [OrderLineFactory()]
    return arguments


def placed_order(**overrides) -> CommerceOrder:
    """A new order through order_create: 2 x MUG (12.50, line tax 4.75) and 1 x TEE (20.00, line
    tax 3.80), shipping 4.99, grand total 58.54; 10 of each in stock before the order."""
    ProductFactory(sku="MUG")
    ProductFactory(sku="TEE")
    lines = [
        OrderLine("MUG", "Mug", 2, Decimal("12.50"), Decimal("4.75"), "item-a"),
        OrderLine("TEE", "Tee", 1, Decimal("20.00"), Decimal("3.80"), "item-b"),
    ]
    arguments = {"lines": lines, "shipping_amount": Decimal("4.99"), **overrides}
    return order_create(**order_create_arguments(**arguments))


def order_items_by_sku(order: CommerceOrder) -> dict[str, CommerceOrderItem]:
    return {item.sku: item for item in order.items.all()}
