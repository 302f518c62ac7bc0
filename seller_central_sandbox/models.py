"""The sandbox's own state: sellers, their tokens, orders, packages and feeds.

Nothing here is shared with amazon_channel: these tables play Amazon's side of the wire.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SellerRole(models.TextChoices):
    """Selling Partner API roles that decide what an application may read of a seller's orders
    (Amazon's "Roles in the Selling Partner API"; the restricted role guards buyer PII)."""

    INVENTORY_AND_ORDER_TRACKING = (
        "INVENTORY_AND_ORDER_TRACKING",
        _("Inventory and Order Tracking"),
    )
    DIRECT_TO_CONSUMER_SHIPPING = (
        "DIRECT_TO_CONSUMER_SHIPPING",
        _("Direct-to-Consumer Shipping (restricted)"),
    )


def default_roles() -> list[str]:
    return [role.value for role in SellerRole]


class ResultCompression(models.TextChoices):
    """How the sandbox stores processing reports: getFeedDocument then says GZIP, or nothing."""

    NONE = "none", _("Never compressed")
    GZIP = "gzip", _("Always GZIP")
    ALTERNATE = "alternate", _("Every second report GZIP")


class SandboxSeller(models.Model):
    seller_id = models.CharField(_("seller id"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120, blank=True)
    client_id = models.CharField(_("LWA client id"), max_length=200)
    client_secret = models.CharField(_("LWA client secret"), max_length=200)
    refresh_token = models.CharField(_("refresh token"), max_length=500, unique=True)
    marketplace_ids = models.JSONField(_("marketplaces"), default=list)
    is_refresh_token_revoked = models.BooleanField(_("refresh token revoked"), default=False)
    # Fault injection: consumed by the API pipeline (seller_central_sandbox.api_views).
    fault_fail_next = models.PositiveIntegerField(_("fail the next N calls"), default=0)
    fault_fail_status = models.PositiveSmallIntegerField(
        _("status of failed calls"), default=503, choices=[(500, "500"), (503, "503")]
    )
    fault_fail_probability = models.FloatField(_("probability of a failed call"), default=0.0)
    fault_latency_ms = models.PositiveIntegerField(_("added latency (ms)"), default=0)
    fault_malformed_next = models.PositiveIntegerField(
        _("malformed body for the next N calls"), default=0
    )
    # Bumped to refill the seller's rate-limit buckets from any process (control page, command).
    rate_limit_generation = models.PositiveIntegerField(default=0)
    # The roles the seller granted this application (which buyer data Amazon shares).
    roles = models.JSONField(_("roles"), default=default_roles, blank=True)
    # Amazon's clock minus the caller's, in seconds: positive when Amazon runs ahead.
    clock_offset_seconds = models.IntegerField(_("Amazon's clock offset (s)"), default=0)
    # Dynamic usage plans: {operation: {"rate": "0.0028", "burst": 10}} replacing the defaults.
    usage_plans = models.JSONField(_("usage plans"), default=dict, blank=True)
    result_compression = models.CharField(
        _("processing report compression"),
        max_length=10,
        choices=ResultCompression.choices,
        default=ResultCompression.ALTERNATE,
    )
    # Fault: the next N feeds end FATAL after applying `fault_feed_fatal_applied` messages,
    # with a processing report of what was applied when `fault_feed_fatal_report` is set.
    fault_feed_fatal_next = models.PositiveIntegerField(_("FATAL for the next N feeds"), default=0)
    fault_feed_fatal_applied = models.PositiveIntegerField(
        _("messages applied before FATAL"), default=1
    )
    fault_feed_fatal_report = models.BooleanField(_("FATAL feeds have a report"), default=True)
    # Notification faults (SQS is at-least-once and unordered): copies of each message, a delay
    # before it can be received, the share dropped, and pairs delivered the other way round.
    notification_copies = models.PositiveIntegerField(_("copies of each notification"), default=1)
    notification_delay_seconds = models.PositiveIntegerField(_("notification delay (s)"), default=0)
    notification_drop_share = models.FloatField(_("share of notifications dropped"), default=0.0)
    is_notification_order_swapped = models.BooleanField(
        _("notifications delivered out of order"), default=False
    )
    # The message body as a JSON string of the notification (decoded twice) instead of its JSON.
    is_notification_body_a_string = models.BooleanField(
        _("notification body as a JSON string"), default=False
    )
    # Whether a new order notifies (ORDER_CHANGE): Amazon does not say (docs#3278).
    is_new_order_notified = models.BooleanField(_("new orders notify"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seller_id"]
        verbose_name = _("sandbox seller")
        permissions = [
            ("control_sandbox", _("Can drive the Seller Central sandbox (orders, faults, plans)")),
        ]

    def __str__(self) -> str:
        return self.seller_id


class SandboxAccessToken(models.Model):
    seller = models.ForeignKey(
        SandboxSeller, on_delete=models.CASCADE, related_name="access_tokens"
    )
    token = models.CharField(max_length=200, unique=True)
    expires_at = models.DateTimeField()
    is_revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.seller_id}:{self.token[:12]}"


class FulfillmentStatus(models.TextChoices):
    PENDING_AVAILABILITY = "PENDING_AVAILABILITY", _("Pending availability")
    PENDING = "PENDING", _("Pending")
    UNSHIPPED = "UNSHIPPED", _("Unshipped")
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED", _("Partially shipped")
    SHIPPED = "SHIPPED", _("Shipped")
    CANCELLED = "CANCELLED", _("Cancelled")
    UNFULFILLABLE = "UNFULFILLABLE", _("Unfulfillable")


class FulfilledBy(models.TextChoices):
    MERCHANT = "MERCHANT", _("Merchant (MFN)")
    AMAZON = "AMAZON", _("Amazon (AFN)")


class SandboxOrder(models.Model):
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="orders")
    order_id = models.CharField(max_length=19, unique=True)
    marketplace_id = models.CharField(max_length=20)
    status = models.CharField(
        max_length=24, choices=FulfillmentStatus.choices, default=FulfillmentStatus.PENDING
    )
    fulfilled_by = models.CharField(max_length=8, choices=FulfilledBy.choices)
    currency_code = models.CharField(max_length=3)
    created_time = models.DateTimeField()
    last_updated_time = models.DateTimeField()
    # Buyer, delivery address, service level, windows, programs, shipping price: fixed at purchase.
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_time", "id"]
        indexes = [
            models.Index(fields=["seller", "created_time", "id"]),
            models.Index(fields=["seller", "last_updated_time", "id"]),
        ]

    def __str__(self) -> str:
        return self.order_id


class SandboxOrderItem(models.Model):
    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="items")
    order_item_id = models.CharField(max_length=20)
    asin = models.CharField(max_length=10)
    # Unbounded: the sandbox must hold whatever Amazon may send, to serve hostile orders.
    seller_sku = models.TextField()
    title = models.TextField()
    quantity_ordered = models.PositiveIntegerField()
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    item_tax = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    gift_message = models.TextField(blank=True)
    gift_wrap_level = models.CharField(max_length=40, blank=True)
    buyer_cancel_reason = models.TextField(blank=True)
    cancelled_by = models.CharField(max_length=20, blank=True)
    cancel_reason = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "order_item_id"], name="sandbox_item_unique_per_order"
            )
        ]

    def __str__(self) -> str:
        return self.order_item_id

    @property
    def quantity_unshipped(self) -> int:
        return self.quantity_ordered - self.quantity_shipped - self.quantity_cancelled


class SandboxRefund(models.Model):
    """A refund the seller sent in a payment adjustment feed, per order item."""

    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="refunds")
    item = models.ForeignKey(SandboxOrderItem, on_delete=models.CASCADE, related_name="refunds")
    feed_id = models.CharField(max_length=40)
    reason = models.CharField(max_length=60)
    principal = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["order_id", "id"]

    def __str__(self) -> str:
        return f"{self.item_id} {self.principal}"


class SandboxPackage(models.Model):
    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="packages")
    package_reference_id = models.CharField(max_length=60)
    carrier_code = models.CharField(max_length=60)
    carrier_name = models.CharField(max_length=60, blank=True)
    shipping_method = models.CharField(max_length=120, blank=True)
    tracking_number = models.CharField(max_length=120)
    ship_date = models.DateTimeField()
    package_items = models.JSONField(default=list)
    created_time = models.DateTimeField()

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "package_reference_id"], name="sandbox_package_unique_reference"
            )
        ]

    def __str__(self) -> str:
        return self.package_reference_id


class SandboxOrderEvent(models.Model):
    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="events")
    actor = models.CharField(max_length=20)
    kind = models.CharField(max_length=40)
    old_status = models.CharField(max_length=24, blank=True)
    new_status = models.CharField(max_length=24, blank=True)
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class SandboxFeedDocument(models.Model):
    seller = models.ForeignKey(
        SandboxSeller, on_delete=models.CASCADE, related_name="feed_documents"
    )
    document_id = models.CharField(max_length=100, unique=True)
    # The secret part of the presigned URL that uploads or downloads the bytes.
    url_token = models.CharField(max_length=64, unique=True)
    url_expires_at = models.DateTimeField()
    content_type = models.CharField(max_length=100)
    content = models.BinaryField(null=True, blank=True)
    # "GZIP" when `content` is stored compressed (getFeedDocument's compressionAlgorithm).
    compression_algorithm = models.CharField(max_length=10, blank=True)
    is_result = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.document_id


class FeedProcessingStatus(models.TextChoices):
    IN_QUEUE = "IN_QUEUE", _("In queue")
    IN_PROGRESS = "IN_PROGRESS", _("In progress")
    DONE = "DONE", _("Done")
    CANCELLED = "CANCELLED", _("Cancelled")
    FATAL = "FATAL", _("Fatal")


class SandboxFeed(models.Model):
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="feeds")
    feed_id = models.CharField(max_length=20, unique=True)
    feed_type = models.CharField(max_length=100)
    # "" for this application's feeds; else the seller's other tool (an ERP, a repricer) that
    # submitted it: getFeeds lists them all alike.
    application = models.CharField(max_length=120, blank=True)
    marketplace_ids = models.JSONField(default=list)
    input_document = models.ForeignKey(
        SandboxFeedDocument, on_delete=models.PROTECT, related_name="input_feeds"
    )
    result_document = models.ForeignKey(
        SandboxFeedDocument,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="result_feeds",
    )
    processing_status = models.CharField(
        max_length=12, choices=FeedProcessingStatus.choices, default=FeedProcessingStatus.IN_QUEUE
    )
    created_time = models.DateTimeField()
    processing_start_time = models.DateTimeField(null=True, blank=True)
    processing_end_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_time", "-id"]

    def __str__(self) -> str:
        return self.feed_id


class SandboxApplicationToken(models.Model):
    """A grantless access token (LWA client_credentials): it names an application, no seller."""

    client_id = models.CharField(max_length=200)
    token = models.CharField(max_length=200, unique=True)
    scope = models.CharField(max_length=100)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.client_id}:{self.token[:12]}"


class SandboxNotificationDestination(models.Model):
    """Where an application's notifications go (createDestination): an SQS queue by its ARN, or
    an EventBridge account and region. Destinations belong to the application, not a seller."""

    client_id = models.CharField(max_length=200)
    destination_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=256)
    sqs_arn = models.CharField(max_length=1000, blank=True)
    event_bridge_account_id = models.CharField(max_length=40, blank=True)
    event_bridge_region = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # "A destination with arn ... already exists for the application" (409).
            models.UniqueConstraint(
                fields=["client_id", "sqs_arn"],
                condition=~models.Q(sqs_arn=""),
                name="sandbox_destination_one_per_queue_and_application",
            )
        ]

    def __str__(self) -> str:
        return self.destination_id


class SandboxNotificationSubscription(models.Model):
    """A seller's subscription of one application to one notification type (createSubscription)."""

    seller = models.ForeignKey(
        SandboxSeller, on_delete=models.CASCADE, related_name="notification_subscriptions"
    )
    client_id = models.CharField(max_length=200)
    notification_type = models.CharField(max_length=80)
    subscription_id = models.CharField(max_length=40, unique=True)
    payload_version = models.CharField(max_length=20)
    destination = models.ForeignKey(
        SandboxNotificationDestination, on_delete=models.PROTECT, related_name="subscriptions"
    )
    processing_directive = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "client_id", "notification_type"],
                name="sandbox_subscription_one_per_type_seller_and_application",
            )
        ]

    def __str__(self) -> str:
        return self.subscription_id


class NotificationDelivery(models.TextChoices):
    SENT = "SENT", _("Sent")
    HELD = "HELD", _("Held back (out of order)")
    DROPPED = "DROPPED", _("Dropped (fault)")
    FAILED = "FAILED", _("Queue unreachable")
    UNDELIVERABLE = "UNDELIVERABLE", _("Not a standard queue")


class SandboxNotification(models.Model):
    """One notification Amazon sent (or meant to send) to a subscription's queue."""

    seller = models.ForeignKey(
        SandboxSeller, on_delete=models.CASCADE, related_name="notifications"
    )
    subscription = models.ForeignKey(
        SandboxNotificationSubscription,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    notification_id = models.CharField(max_length=40, unique=True)
    notification_type = models.CharField(max_length=80)
    queue_arn = models.CharField(max_length=1000)
    body = models.TextField()
    delivery = models.CharField(max_length=16, choices=NotificationDelivery.choices)
    copies = models.PositiveIntegerField(default=0)
    delay_seconds = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["seller", "delivery", "created_at"])]

    def __str__(self) -> str:
        return self.notification_id
