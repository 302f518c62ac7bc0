from decimal import Decimal

import factory

from commerce_orders.models import CommerceOrder, CommerceOrderItem, Customer, Product


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
