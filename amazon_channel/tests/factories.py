from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderItem,
    AmazonOrderStatus,
    FulfillmentChannel,
    Store,
)
from amazon_channel.orders.upsert import store_order_days_add


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"Store {n}")
    region = "EU"
    marketplace_code = "DE"
    marketplace_id = "A1PA6795UKMFR9"
    seller_id = factory.Sequence(lambda n: f"ASELLER{n:05d}")
    sp_api_endpoint = "http://127.0.0.1:8001"
    token_endpoint = "http://127.0.0.1:8001/auth/o2/token"
    lwa_client_id = "amzn1.application-oa2-client.test"
    lwa_client_secret = "test-client-secret"
    refresh_token = factory.Sequence(lambda n: f"Atzr|refresh-{n}")


class AmazonOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AmazonOrder

    store = factory.SubFactory(StoreFactory)
    amazon_order_id = factory.Sequence(lambda n: f"302-{n:07d}-{n * 7 % 9999999:07d}")
    marketplace_id = factory.SelfAttribute("store.marketplace_id")
    status = AmazonOrderStatus.UNSHIPPED
    fulfillment_channel = FulfillmentChannel.MERCHANT
    purchase_date = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    last_update_date = factory.LazyFunction(timezone.now)
    buyer_name = factory.Faker("name")
    buyer_email = factory.Sequence(lambda n: f"buyer{n}@marketplace.amazon.de")
    order_total = Decimal("29.90")
    currency = "EUR"
    number_of_items_unshipped = 1

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As the upsert does: a stored order counts in its store's orders per day.
        order = super()._create(model_class, *args, **kwargs)
        store_order_days_add(store_id=order.store_id, purchase_dates=[order.purchase_date])
        return order


class AmazonOrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AmazonOrderItem

    order = factory.SubFactory(AmazonOrderFactory)
    order_item_id = factory.Sequence(lambda n: f"{n:014d}")
    asin = factory.Sequence(lambda n: f"B0{n:08d}")
    seller_sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.Faker("catch_phrase")
    condition = "New"
    quantity_ordered = 1
    item_price = Decimal("29.90")
