import json

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from amazon_channel.models import (
    AmazonFeed,
    AmazonNotification,
    AmazonOrder,
    AmazonOrderCancellation,
    AmazonOrderEvent,
    AmazonOrderItem,
    AmazonOrderPackage,
    AmazonOrderReread,
    NotificationDestination,
    NotificationQueueStatus,
    NotificationSubscription,
    OutboxMessage,
    RateLimitBucket,
    RateLimitPlan,
    Store,
    StoreChange,
    StoreEvent,
    StoreOrderDay,
    SyncRun,
)
from amazon_channel.orders.upsert import ITEM_FIELDS
from amazon_channel.stores.services import (
    ENDPOINT_FIELDS,
    ORDER_SETTINGS_FIELDS,
    SECRET_FIELDS,
    StoreEndpointRefused,
    store_endpoint_resolve,
    store_notifications_subscribe_request,
    store_save,
    store_secrets_problem,
    store_set_active,
    store_sync_request,
    store_token_endpoint_resolve,
)
from commerce_orders.admin import AppendOnlyAdminMixin
from commerce_orders.notes import notes_text


def preformatted(text: str):
    """A feed document or report as it was sent or received, in a read-only block."""
    return format_html('<pre class="document">{}</pre>', text) if text else "-"


class StoreAdminForm(forms.ModelForm):
    """Secrets are write-only: the page never holds them; blank keeps the stored value, except
    that changing an endpoint needs both typed in again (store_save refuses it otherwise).

    A blank SP-API endpoint is Amazon's host of the region for the store's environment (its
    sandbox host for a sandbox store), a blank token endpoint Login with Amazon's; an Amazon
    endpoint of the other environment is refused, and so is any endpoint that is not Amazon's
    while the Seller Central sandbox is off.
    """

    class Meta:
        model = Store
        # The admin's fieldsets choose the fields on the page; these are the ones handled here.
        fields = SECRET_FIELDS
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRET_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "sp_api_endpoint" in self.fields:
            self.fields["sp_api_endpoint"].required = False
            self.fields["sp_api_endpoint"].help_text = _(
                "Leave empty for Amazon's endpoint of the region: its sandbox for a Sandbox "
                "store, production for a Production store."
            )
        if "token_endpoint" in self.fields:
            self.fields["token_endpoint"].required = False
            self.fields["token_endpoint"].help_text = _("Leave empty for Login with Amazon.")
        if self.instance.pk is None:
            return
        for name in SECRET_FIELDS:
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = _(
                    "Leave blank to keep the current value. Changing an endpoint needs it "
                    "entered again."
                )

    # A blank secret stays blank here: store_save keeps the stored value, or refuses when an
    # endpoint changes; the checks below say so on the page first.

    def clean(self):
        data = super().clean()
        region, environment = data.get("region"), data.get("environment")
        if "token_endpoint" in self.fields and "token_endpoint" not in self.errors:
            try:
                data["token_endpoint"] = store_token_endpoint_resolve(
                    token_endpoint=data.get("token_endpoint")
                )
            except StoreEndpointRefused as error:
                self.add_error("token_endpoint", error.message)
        if (
            "sp_api_endpoint" in self.fields
            and "sp_api_endpoint" not in self.errors
            and region
            and environment
        ):
            try:
                data["sp_api_endpoint"] = store_endpoint_resolve(
                    region=region,
                    environment=environment,
                    sp_api_endpoint=data.get("sp_api_endpoint"),
                )
            except StoreEndpointRefused as error:
                self.add_error("sp_api_endpoint", error.message)
        self._check_secrets(data)
        return data

    def _check_secrets(self, data: dict) -> None:
        # A new store's secrets are required fields already.
        if (
            self.instance.pk is None
            or not all(name in self.fields for name in SECRET_FIELDS)
            or any(name in self.errors for name in (*ENDPOINT_FIELDS, "region", "environment"))
        ):
            return
        # The instance still holds the stored values: the form copies its data in after clean.
        problem = store_secrets_problem(
            stored=self.instance,
            endpoints={
                name: data.get(name, getattr(self.instance, name)) for name in ENDPOINT_FIELDS
            },
            lwa_client_secret=data.get("lwa_client_secret") or "",
            refresh_token=data.get("refresh_token") or "",
        )
        if problem:
            for name in SECRET_FIELDS:
                if not data.get(name):
                    self.add_error(name, problem)


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    form = StoreAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = (
        "name",
        "marketplace_code",
        "region",
        "seller_id",
        "environment",
        "is_active",
        "is_import_enabled",
        "sync_state",
        "orders_watermark",
        "updated_at",
    )
    list_filter = (
        "is_active",
        "sync_state",
        "environment",
        "region",
        "marketplace_code",
        "is_import_enabled",
    )
    actions = ("sync_now", "activate", "deactivate", "notifications_subscribe")
    search_fields = ("name", "seller_id")
    readonly_fields = (
        "created_at",
        "updated_at",
        "sync_state",
        "sync_state_message",
        "orders_watermark",
    )
    fieldsets = (
        (None, {"fields": ("name", "is_active", "created_at", "updated_at")}),
        (
            _("Sync"),
            {"fields": ("sync_state", "sync_state_message", "orders_watermark")},
        ),
        (
            _("Amazon account"),
            {
                "fields": (
                    "region",
                    "marketplace_code",
                    "marketplace_id",
                    "seller_id",
                    "environment",
                    "sp_api_endpoint",
                    "token_endpoint",
                )
            },
        ),
        (
            _("Credentials (encrypted at rest)"),
            {"fields": ("lwa_client_id", "lwa_client_secret", "refresh_token")},
        ),
        (
            _("Order Settings"),
            {"fields": ORDER_SETTINGS_FIELDS},
        ),
    )

    @admin.action(description=_("Sync now"), permissions=["sync"])
    def sync_now(self, request, queryset):
        count = 0
        for store in queryset:
            outcome = store_sync_request(store=store, actor=request.user)
            if outcome.is_queued:
                count += 1
            else:
                self.message_user(
                    request,
                    _("%(name)s is not synced now. %(waiting_for)s")
                    % {"name": store.name, "waiting_for": outcome.waiting_for},
                    level=messages.WARNING,
                )
        self.message_user(
            request,
            ngettext(
                "A sync was queued for %(count)d store.",
                "A sync was queued for %(count)d stores.",
                count,
            )
            % {"count": count},
        )

    @admin.action(description=_("Activate"), permissions=["change"])
    def activate(self, request, queryset):
        for store in queryset:
            store_set_active(store=store, actor=request.user, is_active=True)

    @admin.action(description=_("Deactivate"), permissions=["change"])
    def deactivate(self, request, queryset):
        for store in queryset:
            store_set_active(store=store, actor=request.user, is_active=False)

    @admin.action(description=_("Subscribe to Amazon's notifications"), permissions=["change"])
    def notifications_subscribe(self, request, queryset):
        count = sum(store_notifications_subscribe_request(store=store) for store in queryset)
        self.message_user(
            request,
            ngettext(
                "Amazon's notifications will be set up for %(count)d store.",
                "Amazon's notifications will be set up for %(count)d stores.",
                count,
            )
            % {"count": count},
        )

    def has_sync_permission(self, request):
        return request.user.has_perm("amazon_channel.sync_store")

    def save_model(self, request, obj, form, change):
        # Through the service: it records who changed what and keeps the beat entry in step.
        store_save(store=obj, actor=request.user)


@admin.register(StoreEvent)
class StoreEventAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "store", "kind", "actor", "changed_settings", "message_text")
    list_filter = ("kind", "store")
    list_select_related = ("store", "actor")
    search_fields = ("store__name", "actor__username")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ("created_at", "store", "kind", "actor", "changed_settings", "message_text")
    readonly_fields = fields

    @admin.display(description=_("changes"))
    def changed_settings(self, event):
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in event.change_lines))


class AmazonOrderItemInline(admin.TabularInline):
    model = AmazonOrderItem
    extra = 0
    can_delete = False
    fields = ("order_item_id", *ITEM_FIELDS)
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class AmazonOrderPackageInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = AmazonOrderPackage
    extra = 0
    fields = ("package_reference_id", "carrier", "shipping_service", "tracking_number", "ship_time")
    readonly_fields = fields


class AmazonOrderEventInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = AmazonOrderEvent
    extra = 0
    fields = ("created_at", "kind", "actor", "old_status", "new_status", "message_text")
    readonly_fields = fields


@admin.register(AmazonOrder)
class AmazonOrderAdmin(admin.ModelAdmin):
    list_display = (
        "amazon_order_id",
        "store",
        "purchase_date",
        "status",
        "fulfillment_channel",
        "buyer_name",
        "order_total",
        "currency",
        "last_update_date",
    )
    list_select_related = ("store",)
    search_fields = ("amazon_order_id", "buyer_name", "buyer_email")
    # Every store's orders, the last stored first: the primary key's index gives a page without
    # sorting them all (by purchase date, the model's ordering, a page took 0.46 s at a million
    # orders; an index for it slowed every import's updates by 8 %). The Purchase date column
    # still sorts on a click. No date_hierarchy: its year links are a SELECT DISTINCT over every
    # order's date (0.2 s a page); the date filter's ranges instead.
    ordering = ("-id",)
    show_full_result_count = False
    list_filter = (
        ("purchase_date", admin.DateFieldListFilter),
        "status",
        "fulfillment_channel",
        "needs_attention",
        "store",
        "is_prime",
        "is_business_order",
    )
    readonly_fields = (
        "raw_payload",
        "created_at",
        "updated_at",
        "last_update_date",
        "commerce_order",
        "order_notes_shown",
        "channel_notes_shown",
        "commerce_import_error_shown",
    )
    # The notes are codes (commerce_orders.notes): shown in the reader's language, not edited.
    exclude = ("order_notes", "channel_notes", "commerce_import_error")
    inlines = (AmazonOrderItemInline, AmazonOrderPackageInline, AmazonOrderEventInline)

    @admin.display(description=_("order notes"))
    def order_notes_shown(self, order):
        return notes_text(order.order_notes)

    @admin.display(description=_("Amazon's refusals"))
    def channel_notes_shown(self, order):
        return notes_text(order.channel_notes)

    @admin.display(description=_("import error"))
    def commerce_import_error_shown(self, order):
        return notes_text(order.commerce_import_error)


@admin.register(AmazonOrderEvent)
class AmazonOrderEventAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "order", "kind", "actor", "old_status", "new_status")
    list_filter = ("kind",)
    list_select_related = ("order", "actor")
    search_fields = ("order__amazon_order_id",)
    show_full_result_count = False


@admin.register(SyncRun)
class SyncRunAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "started_at",
        "store",
        "kind",
        "status",
        "finished_at",
        "pages",
        "orders_created",
        "orders_updated",
        "orders_with_problems",
        "push_misses",
        "commerce_orders_created",
        "throttled_calls",
        "retried_errors",
    )
    list_filter = ("status", "kind", "store")
    list_select_related = ("store",)
    search_fields = ("store__name", "message")
    date_hierarchy = "started_at"
    show_full_result_count = False


class AmazonFeedMessageInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = OutboxMessage
    extra = 0
    fields = ("feed_message_id", "key", "kind", "state", "result")
    readonly_fields = fields
    show_change_link = True


@admin.register(AmazonFeed)
class AmazonFeedAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Feeds are what was sent to Amazon and what it answered: read, never edited."""

    list_display = (
        "created_at",
        "store",
        "feed_type",
        "state",
        "feed_id",
        "processing_status",
        "submitted_at",
    )
    list_filter = ("state", "feed_type", "processing_status", "store")
    list_select_related = ("store",)
    search_fields = ("feed_id", "feed_document_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "store",
        "feed_type",
        "state",
        "feed_document_id",
        "feed_id",
        "processing_status",
        "submitted_at",
        "created_at",
        "updated_at",
        "error",
        "feed_document",
        "processing_report",
    )
    readonly_fields = fields
    inlines = (AmazonFeedMessageInline,)

    @admin.display(description=_("content"))
    def feed_document(self, feed):
        return preformatted(feed.content)

    @admin.display(description=_("processing report"))
    def processing_report(self, feed):
        return preformatted(feed.report)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Messages to Amazon move only through the outbox services (Retry is on the order page)."""

    list_display = ("created_at", "key", "kind", "state", "store", "feed", "updated_at")
    list_filter = ("state", "kind", "store")
    list_select_related = ("store", "feed")
    search_fields = ("key",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "store",
        "kind",
        "key",
        "state",
        "feed",
        "feed_message_id",
        "payload",
        "result",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields


@admin.register(AmazonOrderCancellation)
class AmazonOrderCancellationAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Written by amazon_order_cancel and the feed report only."""

    list_display = (
        "requested_at",
        "order",
        "reason",
        "state",
        "requested_by",
        "resolved_at",
        "is_rejection_acknowledged",
    )
    list_filter = ("state", "reason", "is_rejection_acknowledged", "store")
    list_select_related = ("order", "requested_by")
    search_fields = ("order__amazon_order_id",)
    date_hierarchy = "requested_at"
    show_full_result_count = False
    fields = (
        "order",
        "store",
        "reason",
        "state",
        "requested_by",
        "requested_at",
        "outbox_message",
        "amazon_message",
        "resolved_at",
        "is_rejection_acknowledged",
    )
    readonly_fields = fields


@admin.register(RateLimitBucket)
class RateLimitBucketAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """The limiter's own state: changing it by hand would let calls past Amazon's limits."""

    list_display = ("key", "tokens", "updated_at")
    search_fields = ("key",)
    fields = ("key", "tokens", "updated_at")
    readonly_fields = fields


@admin.register(RateLimitPlan)
class RateLimitPlanAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """What Amazon said it applies (x-amzn-RateLimit-Limit): learned from its answers only."""

    list_display = ("key", "rate", "updated_at")
    search_fields = ("key",)
    fields = ("key", "rate", "updated_at")
    readonly_fields = fields


@admin.register(StoreOrderDay)
class StoreOrderDayAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """The cards' chart figures, kept by the order upsert: read-only, like the orders."""

    list_display = ("store", "day", "order_count")
    list_filter = ("store",)
    date_hierarchy = "day"
    list_select_related = ("store",)


@admin.register(StoreChange)
class StoreChangeAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """The stores' marks as PostgreSQL's triggers write them (amazon_channel/stores/changes.py):
    read-only; a store's mark is the sum of its weights."""

    list_display = ("id", "store", "weight")
    list_filter = ("store",)
    list_select_related = ("store",)


@admin.register(AmazonNotification)
class AmazonNotificationAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Amazon's notifications as the consumer recorded them: read, never edited."""

    list_display = (
        "received_at",
        "notification_type",
        "state",
        "store",
        "amazon_order_id",
        "feed_id",
        "receive_count",
        "handled_at",
        "reason",
    )
    list_filter = ("state", "notification_type", "store")
    list_select_related = ("store",)
    search_fields = ("=amazon_order_id", "=notification_id", "=feed_id")
    date_hierarchy = "received_at"
    show_full_result_count = False
    fields = (
        "notification_id",
        "notification_type",
        "state",
        "reason",
        "store",
        "subscription_id",
        "amazon_order_id",
        "feed_id",
        "event_time",
        "publish_time",
        "received_at",
        "receive_count",
        "handled_at",
        "payload_shown",
    )
    readonly_fields = fields

    @admin.display(description=_("payload"))
    def payload_shown(self, notification):
        return preformatted(json.dumps(notification.payload, indent=2, ensure_ascii=False))


@admin.register(NotificationQueueStatus)
class NotificationQueueStatusAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """What the consumer last saw of Amazon's queue and its dead-letter queue."""

    list_display = (
        "queue_url",
        "consumer_seen_at",
        "messages",
        "messages_in_flight",
        "dead_letter_messages",
        "dead_letter_oldest_age",
        "checked_at",
    )
    search_fields = ("queue_url",)
    fields = (
        "queue_url",
        "consumer_seen_at",
        "messages",
        "messages_in_flight",
        "dead_letter_queue_url",
        "dead_letter_messages",
        "dead_letter_oldest_at",
        "dead_letter_oldest_age",
        "checked_at",
    )
    readonly_fields = fields

    @admin.display(description=_("age of the oldest dead-letter message"))
    def dead_letter_oldest_age(self, status):
        if status.dead_letter_oldest_at is None:
            return "-"
        return timesince(status.dead_letter_oldest_at, timezone.now())


@admin.register(NotificationDestination)
class NotificationDestinationAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """The notifications queue as Amazon knows it, per SP-API endpoint and application: made by
    amazon_channel/notifications/setup.py only (`manage.py notifications_subscribe`)."""

    list_display = ("destination_id", "sp_api_endpoint", "queue_arn", "created_at")
    list_filter = ("sp_api_endpoint",)
    search_fields = ("destination_id", "queue_arn")
    fields = ("destination_id", "sp_api_endpoint", "application_key", "queue_arn", "created_at")
    readonly_fields = fields


@admin.register(NotificationSubscription)
class NotificationSubscriptionAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """A seller's subscriptions (shared by its stores of the region): made and deleted by
    amazon_channel/notifications/setup.py only."""

    list_display = (
        "seller_id",
        "notification_type",
        "subscription_id",
        "destination",
        "created_at",
    )
    list_filter = ("notification_type",)
    list_select_related = ("destination",)
    search_fields = ("seller_id", "subscription_id")
    fields = ("seller_id", "notification_type", "subscription_id", "destination", "created_at")
    readonly_fields = fields


@admin.register(AmazonOrderReread)
class AmazonOrderRereadAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """The re-reads that ORDER_CHANGE notifications asked for and that are not done yet:
    kept by their tasks (a row long overdue is sent again by the outbox sweep)."""

    list_display = ("amazon_order_id", "store", "due_at", "attempts", "created_at")
    list_filter = ("store",)
    search_fields = ("amazon_order_id",)
    list_select_related = ("store",)
    fields = ("store", "amazon_order_id", "due_at", "attempts", "created_at")
    readonly_fields = fields
