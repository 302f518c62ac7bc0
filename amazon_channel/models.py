from decimal import Decimal

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from amazon_channel.fields import EncryptedTextField, JSONTextField
from amazon_channel.spapi.marketplaces import MARKETPLACE_CHOICES, MARKETPLACES
from commerce_orders.notes import notes_render


class Region(models.TextChoices):
    NORTH_AMERICA = "NA", _("North America")
    EUROPE = "EU", _("Europe")
    FAR_EAST = "FE", _("Far East")


class SyncState(models.TextChoices):
    OK = "ok", _("OK")
    ERROR = "error", _("Error")
    NEEDS_REAUTHORIZATION = "needs_reauthorization", _("Needs reauthorization")


class Store(models.Model):
    """An Amazon seller account in one marketplace, with the Commerce channel's Order Settings."""

    class Environment(models.TextChoices):
        SANDBOX = "sandbox", _("Sandbox")
        PRODUCTION = "production", _("Production")

    class CustomerCreation(models.TextChoices):
        GUEST = "guest", _("Guest")
        NEW_ACCOUNT = "new_account", _("Build new customer account")

    class OrderNumberSource(models.TextChoices):
        COMMERCE = "commerce", _("Commerce order number sequence")
        AMAZON = "amazon", _("Amazon order number")

    class OrderStatusSource(models.TextChoices):
        DEFAULT = "default", _("Default")
        CUSTOM = "custom", _("Custom")

    name = models.CharField(_("name"), max_length=120, unique=True)
    region = models.CharField(_("region"), max_length=2, choices=Region.choices)
    marketplace_code = models.CharField(_("marketplace"), max_length=2, choices=MARKETPLACE_CHOICES)
    marketplace_id = models.CharField(_("marketplace id"), max_length=20)
    seller_id = models.CharField(_("seller id"), max_length=32)
    environment = models.CharField(
        _("environment"), max_length=12, choices=Environment.choices, default=Environment.SANDBOX
    )
    sp_api_endpoint = models.URLField(_("SP-API endpoint"), max_length=200)
    token_endpoint = models.URLField(_("token endpoint"), max_length=200)
    lwa_client_id = EncryptedTextField(_("LWA client id"))
    lwa_client_secret = EncryptedTextField(_("LWA client secret"))
    refresh_token = EncryptedTextField(_("refresh token"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)

    # Order Settings, as in the Commerce channel.
    is_import_enabled = models.BooleanField(_("Import Amazon Orders"), default=False)
    customer_creation = models.CharField(
        _("Customer Creation"),
        max_length=12,
        choices=CustomerCreation.choices,
        default=CustomerCreation.GUEST,
    )
    order_number_source = models.CharField(
        _("Order Number Source"),
        max_length=10,
        choices=OrderNumberSource.choices,
        default=OrderNumberSource.COMMERCE,
    )
    is_pending_quantity_reserved = models.BooleanField(
        _("Reserve quantity for pending orders"), default=True
    )
    order_status_source = models.CharField(
        _("Order Status"),
        max_length=8,
        choices=OrderStatusSource.choices,
        default=OrderStatusSource.DEFAULT,
    )
    processing_status = models.CharField(
        _("Processing status"), max_length=32, default="processing"
    )

    # Sync state. The watermark is the end of the last window whose orders are all committed.
    sync_state = models.CharField(
        _("sync state"), max_length=24, choices=SyncState.choices, default=SyncState.OK
    )
    sync_state_message = models.TextField(_("sync message"), blank=True)
    orders_watermark = models.DateTimeField(_("orders synced up to"), null=True, blank=True)
    # Amazon's notifications (ORDER_CHANGE, FEED_PROCESSING_FINISHED): when the last one about
    # this store arrived. Whether they are on is its seller's NotificationSubscription rows.
    last_notification_at = models.DateTimeField(_("last notification"), null=True, blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        permissions = [
            ("sync_store", _("Can sync a store with Amazon")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("seller_id", "marketplace_id", "environment"),
                name="store_unique_seller_marketplace_environment",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def marketplace(self):
        return MARKETPLACES[self.marketplace_code]

    @property
    def is_sync_paused(self) -> bool:
        return self.sync_state == SyncState.NEEDS_REAUTHORIZATION


class AmazonOrderStatus(models.TextChoices):
    PENDING = "Pending", _("Pending")
    PENDING_AVAILABILITY = "PendingAvailability", _("Pending Availability")
    UNSHIPPED = "Unshipped", _("Unshipped")
    PARTIALLY_SHIPPED = "PartiallyShipped", _("Partially Shipped")
    SHIPPED = "Shipped", _("Shipped")
    CANCELED = "Canceled", _("Canceled")
    UNFULFILLABLE = "Unfulfillable", _("Unfulfillable")
    INVOICE_UNCONFIRMED = "InvoiceUnconfirmed", _("Invoice Unconfirmed")
    ERROR = "Error", _("Error")


class FulfillmentChannel(models.TextChoices):
    MERCHANT = "MFN", _("Fulfilled by merchant")
    AMAZON = "AFN", _("Fulfilled by Amazon")


class AmazonOrder(models.Model):
    # Indexed by the (store, ...) indexes below: a store-only index would be paid for twice.
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("store"),
        db_index=False,
    )
    amazon_order_id = models.CharField(_("order number"), max_length=32)
    marketplace_id = models.CharField(_("marketplace id"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=24, choices=AmazonOrderStatus.choices)
    fulfillment_channel = models.CharField(
        _("fulfillment channel"), max_length=3, choices=FulfillmentChannel.choices
    )
    purchase_date = models.DateTimeField(_("purchase date"))
    last_update_date = models.DateTimeField(_("last update date"))
    latest_ship_date = models.DateTimeField(_("latest ship date"), null=True, blank=True)
    ship_service_level = models.CharField(_("ship service level"), max_length=64, blank=True)
    buyer_name = models.CharField(_("buyer's name"), max_length=255, blank=True)
    buyer_email = models.EmailField(_("buyer email"), max_length=255, blank=True)
    shipping_address = models.JSONField(_("shipping address"), default=dict, blank=True)
    is_shipping_address_edited = models.BooleanField(_("address edited here"), default=False)
    order_total = models.DecimalField(
        _("grand total"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    number_of_items_shipped = models.PositiveIntegerField(_("items shipped"), default=0)
    number_of_items_unshipped = models.PositiveIntegerField(_("items unshipped"), default=0)
    is_prime = models.BooleanField(_("Prime"), default=False)
    is_business_order = models.BooleanField(_("business order"), default=False)
    is_premium_order = models.BooleanField(_("premium order"), default=False)
    is_replacement_order = models.BooleanField(_("replacement order"), default=False)
    is_buyer_requested_cancellation = models.BooleanField(
        _("buyer requested cancellation"), default=False
    )
    buyer_cancellation_reason = models.CharField(
        _("buyer's cancellation reason"), max_length=255, blank=True
    )
    # The three notes are lists of notes (commerce_orders.notes): codes shown in the reader's
    # language, and text as a person or Amazon wrote it.
    order_notes = models.JSONField(_("order notes"), default=list, blank=True)
    # What Amazon refused of our messages about this order (a shipment, a refund); cleared when
    # a retry goes through.
    channel_notes = models.JSONField(_("Amazon's refusals"), default=list, blank=True)
    # Why no Commerce order could be created yet (a missing SKU...); retried on every sync.
    commerce_import_error = models.JSONField(_("import error"), default=list, blank=True)
    # Set while the last read of this order found something to fix; retried on every sync.
    needs_attention = models.BooleanField(_("needs attention"), default=False)
    commerce_order = models.OneToOneField(
        "commerce_orders.CommerceOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Commerce order"),
    )
    raw_payload = JSONTextField(_("raw payload"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ("-purchase_date", "-id")
        verbose_name = _("Amazon order")
        verbose_name_plural = _("Amazon orders")
        permissions = [
            ("cancel_amazonorder", _("Can cancel an Amazon order")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("store", "amazon_order_id"), name="amazon_order_unique_per_store"
            ),
            models.CheckConstraint(
                condition=Q(order_total__isnull=True) | Q(order_total__gte=0),
                name="amazon_order_total_not_negative",
            ),
        ]
        indexes = [
            # Keyset pagination of Recent Orders / All Orders.
            models.Index(
                fields=("store", "-purchase_date", "-id"), name="amazon_order_store_recent"
            ),
            # The store cards' counts read only the rows they count.
            models.Index(
                fields=("store",),
                condition=Q(status="Unshipped"),
                name="amazon_order_store_unshipped",
            ),
            models.Index(
                fields=("store",),
                condition=Q(needs_attention=True) | ~Q(commerce_import_error=[]),
                name="amazon_order_store_attention",
            ),
            # All Orders sorted by Grand Total (a missing total sorts as -1, see selectors).
            models.Index(
                F("store"),
                Coalesce("order_total", Value(Decimal("-1"))).desc(),
                F("id").desc(),
                name="amazon_order_store_total",
            ),
            # All Orders sorted by Status (by Order Number: the unique constraint's index). Every
            # page reads one store's orders: no index on status or the attention flag alone,
            # which each stored order would pay for.
            models.Index(fields=("store", "status", "id"), name="amazon_order_store_status"),
            # All Orders sorted by Buyer's Name.
            models.Index(fields=("store", "buyer_name", "id"), name="amazon_order_store_buyer"),
            # The store cards' tile of buyer cancellation requests (few rows).
            models.Index(
                fields=("store",),
                condition=Q(is_buyer_requested_cancellation=True),
                name="amazon_order_buyer_cancel",
            ),
        ]

    def __str__(self) -> str:
        return self.amazon_order_id

    @property
    def is_fulfilled_by_amazon(self) -> bool:
        """Amazon ships the order (AFN): it gives no packages, and only Seller Central cancels."""
        return self.fulfillment_channel == FulfillmentChannel.AMAZON

    @property
    def cancellation_state(self) -> str:
        """The state of the order's cancellation, "" when there is none; no query once the
        cancellation was select_related (the list pages do)."""
        try:
            return self.cancellation.state
        except ObjectDoesNotExist:
            return ""


class StoreOrderDay(models.Model):
    """How many of a store's Amazon orders were placed on a day (UTC): the store card's chart.

    Kept by the order upsert as orders are first stored (an order's store and purchase date
    never change), so the chart reads 30 rows a store instead of counting every order again.
    """

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="order_days", verbose_name=_("store")
    )
    day = models.DateField(_("day"))
    order_count = models.PositiveIntegerField(_("orders"), default=0)

    class Meta:
        verbose_name = _("orders of a day")
        verbose_name_plural = _("orders per day")
        constraints = [
            models.UniqueConstraint(fields=("store", "day"), name="store_order_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.day}: {self.order_count}"


class StoreChange(models.Model):
    """A write to what a store's pages show: its orders and their items, packages, history,
    cancellations and Commerce orders, its outbox messages, chart rows and history (and a
    user's new name, every store's).

    PostgreSQL's triggers (migrations 0023 and 0024) insert one row a statement and store, in
    the writer's transaction, whoever writes (the order upsert's SQL, the ORM, COPY). A store's
    sum of `weight`, its mark, therefore grows with every commit that changed those rows and
    never otherwise: it names their state, the key under which the pages keep what they read
    (amazon_channel/stores/changes.py). Compacted into one row a store (same sum) every minute.

    No foreign key constraint: the triggers fire as a deleted store's orders are deleted, in
    the transaction that deletes the store; compaction drops a gone store's rows.
    """

    store = models.ForeignKey(
        Store,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("store"),
    )
    weight = models.PositiveBigIntegerField(_("weight"), default=1)

    class Meta:
        verbose_name = _("store change")
        verbose_name_plural = _("store changes")

    def __str__(self) -> str:
        return f"{self.store_id} +{self.weight}"


class AmazonOrderItem(models.Model):
    # Indexed by the unique (order, order item id) constraint.
    order = models.ForeignKey(
        AmazonOrder,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("order"),
        db_index=False,
    )
    order_item_id = models.CharField(_("order item id"), max_length=32)
    asin = models.CharField(_("ASIN"), max_length=16, blank=True)
    seller_sku = models.CharField(_("SKU"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=500, blank=True)
    condition = models.CharField(_("condition"), max_length=32, blank=True)
    quantity_ordered = models.PositiveIntegerField(_("quantity ordered"), default=0)
    quantity_shipped = models.PositiveIntegerField(_("quantity shipped"), default=0)
    item_price = models.DecimalField(
        _("price"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    item_tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, null=True, blank=True)
    shipping_price = models.DecimalField(
        _("shipping"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ("order", "id")
        verbose_name = _("Amazon order item")
        verbose_name_plural = _("Amazon order items")
        constraints = [
            models.UniqueConstraint(
                fields=("order", "order_item_id"), name="amazon_order_item_unique_per_order"
            ),
            models.CheckConstraint(
                condition=Q(quantity_shipped__lte=models.F("quantity_ordered")),
                name="amazon_order_item_shipped_within_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seller_sku} x {self.quantity_ordered}"


class AmazonOrderPackage(models.Model):
    """A shipped package with its tracking, as Amazon reports it."""

    order = models.ForeignKey(
        AmazonOrder, on_delete=models.CASCADE, related_name="packages", verbose_name=_("order")
    )
    package_reference_id = models.CharField(_("package reference"), max_length=64)
    carrier = models.CharField(_("carrier"), max_length=64, blank=True)
    shipping_service = models.CharField(_("method"), max_length=128, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=128, blank=True)
    ship_time = models.DateTimeField(_("shipped"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=24, blank=True)
    items = models.JSONField(_("items"), default=list, blank=True)

    class Meta:
        ordering = ("order", "ship_time", "id")
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        constraints = [
            models.UniqueConstraint(
                fields=("order", "package_reference_id"), name="amazon_package_unique_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class SyncRun(models.Model):
    """One sync of a store's orders: its window, its progress cursor and what it did.

    A run holds a lease instead of a lock: a worker killed mid-run leaves the lease to expire,
    and the next attempt resumes from the committed cursor.
    """

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        MANUAL = "manual", _("Sync now")
        COMMAND = "command", _("Command line")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="sync_runs", verbose_name=_("store")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    window_start = models.DateTimeField(_("updated after"))
    window_end = models.DateTimeField(_("updated before"))
    pagination_token = models.TextField(_("next page"), blank=True)
    # The parameters of the run's first searchOrders call: Amazon accepts the next page's token
    # only with the same parameters again (all but maxResultsPerPage).
    search_parameters = models.JSONField(_("search parameters"), default=dict, blank=True)
    # Times Amazon refused the window's end as too recent by its clock, and it was moved back.
    window_end_moves = models.PositiveIntegerField(_("window end moved back"), default=0)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    orders_created = models.PositiveIntegerField(_("orders created"), default=0)
    orders_updated = models.PositiveIntegerField(_("orders updated"), default=0)
    orders_unchanged = models.PositiveIntegerField(_("orders unchanged"), default=0)
    orders_with_problems = models.PositiveIntegerField(_("orders with problems"), default=0)
    # Orders this run found new or changed with no notification about them since their change,
    # while the store's notifications were on (issue 16: the poll is the backstop).
    push_misses = models.PositiveIntegerField(_("changes found before any notification"), default=0)
    # Orders Amazon sent without an id or dates: nothing can be stored for them.
    orders_skipped = models.PositiveIntegerField(_("orders skipped"), default=0)
    commerce_orders_created = models.PositiveIntegerField(_("Commerce orders created"), default=0)
    throttled_calls = models.PositiveIntegerField(_("throttled calls"), default=0)
    retried_errors = models.PositiveIntegerField(_("retried errors"), default=0)
    consecutive_errors = models.PositiveIntegerField(default=0, editable=False)
    lease_holder = models.CharField(max_length=64, blank=True, editable=False)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ("-started_at", "-id")
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        constraints = [
            # At most one run in progress per store: the per-store lock.
            models.UniqueConstraint(
                fields=("store",),
                condition=Q(status="running"),
                name="sync_run_one_running_per_store",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class RateLimitPlan(models.Model):
    """The rate Amazon says it applies to a seller's operation (x-amzn-RateLimit-Limit), for
    installations without Redis (the demo); Redis keeps it otherwise."""

    key = models.CharField(max_length=200, unique=True)
    rate = models.FloatField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rate limit plan")
        verbose_name_plural = _("rate limit plans")

    def __str__(self) -> str:
        return f"{self.key}: {self.rate}/s"


class RateLimitBucket(models.Model):
    """Token buckets in the database, for installations without Redis (the demo)."""

    key = models.CharField(max_length=200, unique=True)
    tokens = models.FloatField()
    updated_at = models.FloatField(help_text="time.time() of the last refill")

    class Meta:
        verbose_name = _("rate limit bucket")
        verbose_name_plural = _("rate limit buckets")

    def __str__(self) -> str:
        return self.key


class CancelReason(models.TextChoices):
    """The order acknowledgement feed's CancelReason values, in the Commerce dashboard's order."""

    NO_INVENTORY = "NoInventory", _("No inventory")
    SHIPPING_ADDRESS_UNDELIVERABLE = (
        "ShippingAddressUndeliverable",
        _("Shipping address undeliverable"),
    )
    CUSTOMER_EXCHANGE = "CustomerExchange", _("Customer exchange")
    BUYER_CANCELED = "BuyerCanceled", _("Buyer canceled")
    GENERAL_ADJUSTMENT = "GeneralAdjustment", _("General adjustment")
    CARRIER_CREDIT_DECISION = "CarrierCreditDecision", _("Carrier credit decision")
    RISK_ASSESSMENT_INFORMATION_NOT_VALID = (
        "RiskAssessmentInformationNotValid",
        _("Risk assessment information not valid"),
    )
    CARRIER_COVERAGE_FAILURE = "CarrierCoverageFailure", _("Carrier coverage failure")
    CUSTOMER_RETURN = "CustomerReturn", _("Customer return")
    MERCHANDISE_NOT_RECEIVED = "MerchandiseNotReceived", _("Merchandise not received")


class AdjustmentReason(models.TextChoices):
    """The payment adjustment feed's AdjustmentReason values, for a refund of an Amazon order."""

    CUSTOMER_RETURN = "CustomerReturn", _("Customer return")
    NO_INVENTORY = "NoInventory", _("No inventory")
    GENERAL_ADJUSTMENT = "GeneralAdjustment", _("General adjustment")
    COULD_NOT_SHIP = "CouldNotShip", _("Could not ship")
    DIFFERENT_ITEM = "DifferentItem", _("Different item")
    ABANDONED = "Abandoned", _("Abandoned")
    CUSTOMER_CANCEL = "CustomerCancel", _("Customer canceled")
    PRICE_ERROR = "PriceError", _("Price error")
    PRODUCT_OUT_OF_STOCK = "ProductOutofStock", _("Product out of stock")
    CUSTOMER_ADDRESS_INCORRECT = (
        "CustomerAddressIncorrect",
        _("Customer address incorrect"),
    )
    EXCHANGE = "Exchange", _("Exchange")
    OTHER = "Other", _("Other")
    CARRIER_CREDIT_DECISION = "CarrierCreditDecision", _("Carrier credit decision")
    RISK_ASSESSMENT_INFORMATION_NOT_VALID = (
        "RiskAssessmentInformationNotValid",
        _("Risk assessment information not valid"),
    )
    CARRIER_COVERAGE_FAILURE = "CarrierCoverageFailure", _("Carrier coverage failure")
    TRANSACTION_RECORD = "TransactionRecord", _("Transaction record")
    UNDELIVERABLE = "Undeliverable", _("Undeliverable")
    REFUSED_DELIVERY = "RefusedDelivery", _("Refused delivery")


class AmazonFeed(models.Model):
    """One feed document sent to Amazon (Feeds API 2021-06-30) and what its report said."""

    class State(models.TextChoices):
        NEW = "new", _("New")
        UPLOADED = "uploaded", _("Uploaded")
        CREATING = "creating", _("Submitting")
        SUBMITTED = "submitted", _("Submitted")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="feeds", verbose_name=_("store")
    )
    feed_type = models.CharField(_("feed type"), max_length=64)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.NEW)
    content = models.TextField(_("content"), blank=True)
    feed_document_id = models.CharField(_("feed document id"), max_length=200, blank=True)
    feed_id = models.CharField(_("feed id"), max_length=64, blank=True, db_index=True)
    processing_status = models.CharField(_("processing status"), max_length=16, blank=True)
    report = models.TextField(_("processing report"), blank=True)
    error = models.TextField(_("error"), blank=True)
    lease_holder = models.CharField(max_length=64, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("Amazon feed")
        verbose_name_plural = _("Amazon feeds")

    def __str__(self) -> str:
        return f"{self.feed_type} {self.feed_id or self.pk}"


class OutboxMessage(models.Model):
    """A message to Amazon, written in the transaction that decided it; delivered at least once,
    applied once (its key is unique, and a feed message is sent in exactly one feed)."""

    class Kind(models.TextChoices):
        CANCEL_ORDER = "cancel_order", _("Cancel order")
        CONFIRM_SHIPMENT = "confirm_shipment", _("Confirm shipment")
        REFUND_ORDER = "refund_order", _("Refund")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        IN_FEED = "in_feed", _("Sent in a feed")
        # Amazon's answer does not say whether it was applied: its state of the order decides.
        VERIFYING = "verifying", _("Checking with Amazon")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="outbox_messages", verbose_name=_("store")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    payload = models.JSONField(_("payload"), default=dict)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PENDING, db_index=True
    )
    feed = models.ForeignKey(
        AmazonFeed,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("feed"),
    )
    feed_message_id = models.PositiveIntegerField(_("message id in feed"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    # Messages sent by direct API calls (not feeds) are claimed one at a time.
    lease_holder = models.CharField(max_length=64, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        constraints = [
            models.UniqueConstraint(
                fields=("feed", "feed_message_id"), name="outbox_message_unique_in_feed"
            ),
        ]

    # In the payload of a refund whose outcome is unknown once only the merchant can settle it.
    AWAITING_MERCHANT = "is_awaiting_merchant"

    def __str__(self) -> str:
        return self.key

    @property
    def is_awaiting_merchant(self) -> bool:
        """A refund whose outcome Amazon's answer left unknown: only the merchant, having checked
        Seller Central, may send it again."""
        return (
            self.kind == self.Kind.REFUND_ORDER
            and self.state == self.State.VERIFYING
            and bool(self.payload.get(self.AWAITING_MERCHANT))
        )


class AmazonOrderCancellation(models.Model):
    """A merchant's Cancel Order, from Confirm to Amazon's processing report."""

    class State(models.TextChoices):
        PENDING = "pending", _("Submitted to Amazon")
        CONFIRMED = "confirmed", _("Confirmed by Amazon")
        REJECTED = "rejected", _("Cancellation rejected by Amazon")

    order = models.OneToOneField(
        AmazonOrder,
        on_delete=models.CASCADE,
        related_name="cancellation",
        verbose_name=_("order"),
    )
    # The order's store, kept here so that a card counts its cancellations from their own
    # index (an order never changes store).
    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        related_name="order_cancellations",
        verbose_name=_("store"),
    )
    reason = models.CharField(
        _("Reason for cancellation"), max_length=40, choices=CancelReason.choices
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    outbox_message = models.OneToOneField(
        OutboxMessage,
        on_delete=models.PROTECT,
        related_name="cancellation",
        verbose_name=_("outbox message"),
    )
    amazon_message = models.TextField(_("Amazon's message"), blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # A rejection stays on the store card and the order page until someone has looked.
    is_rejection_acknowledged = models.BooleanField(_("rejection seen"), default=False)
    # The buyer's e-mail after Amazon confirmed: its own retried step, sent once. Due (the next
    # attempt) until sent or given up; the outbox sweep restarts one whose task was lost.
    buyer_email_due_at = models.DateTimeField(_("buyer e-mail due"), null=True, blank=True)
    buyer_emailed_at = models.DateTimeField(_("buyer e-mailed"), null=True, blank=True)
    buyer_email_attempts = models.PositiveIntegerField(_("buyer e-mail attempts"), default=0)
    buyer_email_error = models.TextField(_("buyer e-mail error"), blank=True)

    class Meta:
        verbose_name = _("cancellation")
        verbose_name_plural = _("cancellations")
        indexes = [
            models.Index(fields=("store", "state"), name="cancellation_store_state"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.reason} {self.state}"


class AmazonOrderEvent(models.Model):
    """Append-only history of an Amazon order: who did what, old -> new, when."""

    class Kind(models.TextChoices):
        IMPORTED = "imported", _("Imported from Amazon")
        UPDATED = "updated", _("Updated from Amazon")
        STATUS_CHANGED = "status_changed", _("Status changed")
        CANCEL_REQUESTED = "cancel_requested", _("Cancellation requested")
        CANCEL_CONFIRMED = "cancel_confirmed", _("Cancellation confirmed by Amazon")
        CANCEL_REJECTED = "cancel_rejected", _("Cancellation rejected by Amazon")
        ADDRESS_CHANGED = "address_changed", _("Shipping address changed")
        NOTE = "note", _("Note")

    order = models.ForeignKey(
        AmazonOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    kind = models.CharField(_("event"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="amazon_order_events",
        verbose_name=_("user"),
    )
    old_status = models.CharField(_("old status"), max_length=24, blank=True)
    new_status = models.CharField(_("new status"), max_length=24, blank=True)
    # What the system says, as codes (commerce_orders.notes); `message` keeps Amazon's words.
    notes = models.JSONField(_("notes"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("Amazon order event")
        verbose_name_plural = _("Amazon order events")

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"

    @property
    def message_text(self) -> str:
        """The system's notes in the reader's language, then the message as written."""
        return "\n".join([*notes_render(self.notes), *([self.message] if self.message else [])])

    @property
    def actor_label(self) -> str:
        return self.actor.get_username() if self.actor else str(_("System"))


class StoreEvent(models.Model):
    """Append-only history of a store: who connected it, changed its settings, switched it on or
    off or asked for a sync, and when. Credentials never appear here, only that they changed."""

    class Kind(models.TextChoices):
        CONNECTED = "connected", _("Store connected")
        CREDENTIALS_UPDATED = "credentials_updated", _("Credentials updated")
        SETTINGS_CHANGED = "settings_changed", _("Settings changed")
        ACTIVATED = "activated", _("Activated")
        DEACTIVATED = "deactivated", _("Deactivated")
        SYNC_REQUESTED = "sync_requested", _("Sync requested")
        REAUTHORIZATION_NEEDED = "reauthorization_needed", _("Needs reauthorization")
        REAUTHORIZED = "reauthorized", _("Reauthorized")
        # Amazon's notifications for the store's seller (amazon_channel/notifications/setup.py).
        NOTIFICATIONS_ON = "notifications_on", _("Notifications on")
        NOTIFICATIONS_OFF = "notifications_off", _("Notifications off")
        NOTIFICATIONS_FAILED = "notifications_failed", _("Notifications not set up")

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="events", verbose_name=_("store")
    )
    kind = models.CharField(_("event"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="store_events",
        verbose_name=_("user"),
    )
    # {field name: [old, new]} of the settings that changed, as stored (never a credential).
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # What the system says, as codes (commerce_orders.notes); `message` keeps Amazon's words.
    notes = models.JSONField(_("notes"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("store event")
        verbose_name_plural = _("store events")
        indexes = [
            models.Index(fields=("store", "-created_at"), name="store_event_store_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.kind}"

    @property
    def message_text(self) -> str:
        """The system's notes in the reader's language, then the message as written."""
        return "\n".join([*notes_render(self.notes), *([self.message] if self.message else [])])

    @property
    def actor_label(self) -> str:
        return self.actor.get_username() if self.actor else str(_("System"))

    @property
    def change_lines(self) -> list[str]:
        """'Label: old -> new' for each changed setting, in the reader's language."""
        lines = []
        # In the order of the form, whatever order the database keeps the keys in.
        order = {field.name: index for index, field in enumerate(Store._meta.fields)}
        for name in sorted(self.changes, key=lambda name: (order.get(name, len(order)), name)):
            old, new = self.changes[name]
            try:
                field = Store._meta.get_field(name)
            except FieldDoesNotExist:  # A setting since removed: its name is all we know.
                field = None
            label = capfirst(field.verbose_name) if field else name
            lines.append(f"{label}: {_display(field, old)} \u2192 {_display(field, new)}")
        return lines


def _display(field, value) -> str:
    if isinstance(value, bool):
        if field is not None and field.name == "is_import_enabled":
            return str(_("Enabled") if value else _("Disabled"))
        return str(_("Yes") if value else _("No"))
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return "" if value is None else str(value)


class NotificationType(models.TextChoices):
    """The notification types the channel subscribes to (notifications_v1.json NotificationType)."""

    ORDER_CHANGE = "ORDER_CHANGE", _("Order change")
    FEED_PROCESSING_FINISHED = "FEED_PROCESSING_FINISHED", _("Feed processing finished")


class NotificationDestination(models.Model):
    """The channel's SQS queue registered as a destination with one application at one SP-API
    endpoint (createDestination is grantless and per application: one per queue ARN, reused by
    every store of that application and region)."""

    sp_api_endpoint = models.URLField(_("SP-API endpoint"), max_length=200)
    # SHA-256 of the application's LWA client id: which application, without storing the id twice.
    application_key = models.CharField(_("application"), max_length=64)
    queue_arn = models.CharField(_("SQS queue ARN"), max_length=1000)
    destination_id = models.CharField(_("destination id"), max_length=100)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification destination")
        verbose_name_plural = _("notification destinations")
        constraints = [
            models.UniqueConstraint(
                fields=("sp_api_endpoint", "application_key", "queue_arn"),
                name="notification_destination_unique_endpoint_application_queue",
            ),
        ]

    def __str__(self) -> str:
        return self.destination_id


class NotificationSubscription(models.Model):
    """A seller's subscription to one notification type through a destination. Amazon keeps one
    per seller, application and type: the seller's stores in that region share it."""

    destination = models.ForeignKey(
        NotificationDestination,
        on_delete=models.PROTECT,
        related_name="subscriptions",
        verbose_name=_("destination"),
    )
    seller_id = models.CharField(_("seller id"), max_length=32)
    notification_type = models.CharField(
        _("notification type"), max_length=40, choices=NotificationType.choices
    )
    subscription_id = models.CharField(_("subscription id"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification subscription")
        verbose_name_plural = _("notification subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=("destination", "seller_id", "notification_type"),
                name="notification_subscription_unique_seller_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_type} {self.seller_id}"


class AmazonNotification(models.Model):
    """A notification taken from the queue, recorded once by Amazon's NotificationId (SQS
    delivers at least once: a copy only counts as received again)."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")  # recorded, its work handed to Celery, not done
        HANDLED = "handled", _("Handled")
        WAITING = "waiting", _("Waiting for the store")  # e.g. the store needs reauthorization
        IGNORED = "ignored", _("Ignored")  # unknown subscription, seller or marketplace

    notification_id = models.CharField(_("notification id"), max_length=100, unique=True)
    notification_type = models.CharField(_("notification type"), max_length=40)
    subscription_id = models.CharField(_("subscription id"), max_length=100, blank=True)
    store = models.ForeignKey(
        Store,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("store"),
    )
    amazon_order_id = models.CharField(_("Amazon order"), max_length=50, blank=True)
    feed_id = models.CharField(_("feed id"), max_length=100, blank=True)
    event_time = models.DateTimeField(_("event time"), null=True, blank=True)
    publish_time = models.DateTimeField(_("published"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    receive_count = models.PositiveIntegerField(_("times received"), default=1)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.RECEIVED
    )
    # Why it was ignored or waits, in English for operators (shown in Django admin only).
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict)

    class Meta:
        verbose_name = _("Amazon notification")
        verbose_name_plural = _("Amazon notifications")
        indexes = [
            models.Index(fields=("store", "amazon_order_id"), name="notification_store_order"),
            models.Index(
                fields=("received_at",),
                condition=Q(state="received"),
                name="notification_unhandled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_type} {self.notification_id}"


class AmazonOrderReread(models.Model):
    """An order to read again with getOrder, soon: ORDER_CHANGE notifications of one order
    within AMAZON_NOTIFICATIONS_COALESCE_SECONDS share it, so they cost one call. A row, not a
    cache key: the database is the only thing every process shares in the demo too (its cache
    is each process's memory). Deleted just before the read, so that a change arriving during
    the read asks for another."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="order_rereads", verbose_name=_("store")
    )
    amazon_order_id = models.CharField(_("Amazon order"), max_length=50)
    # When its task is due; one long overdue lost its task, and the sweep sends it again.
    due_at = models.DateTimeField(_("due"))
    # getOrder attempts that failed and were retried (throttled, 5xx, not found yet).
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("order re-read")
        verbose_name_plural = _("order re-reads")
        constraints = [
            models.UniqueConstraint(
                fields=("store", "amazon_order_id"), name="order_reread_unique_store_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.amazon_order_id}"


class NotificationQueueStatus(models.Model):
    """What the consumer last saw of its queue and dead-letter queue, for the health check and
    Django admin (SQS has no "age of the oldest message" but CloudWatch's: the consumer peeks)."""

    queue_url = models.CharField(_("queue"), max_length=1000, unique=True)
    consumer_seen_at = models.DateTimeField(_("consumer last seen"), null=True, blank=True)
    messages = models.PositiveIntegerField(_("messages waiting"), default=0)
    messages_in_flight = models.PositiveIntegerField(_("messages being handled"), default=0)
    dead_letter_queue_url = models.CharField(_("dead-letter queue"), max_length=1000, blank=True)
    dead_letter_messages = models.PositiveIntegerField(_("dead-letter messages"), default=0)
    dead_letter_oldest_at = models.DateTimeField(
        _("oldest dead-letter message sent"), null=True, blank=True
    )
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification queue status")
        verbose_name_plural = _("notification queue status")

    def __str__(self) -> str:
        return self.queue_url
