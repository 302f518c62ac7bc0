"""Amazon's side of the wire, to look at: read-only (the control page at /sandbox/ changes it).

Installed only with the sandbox (SELLER_CENTRAL_SANDBOX_ENABLED). Shares no code with
amazon_channel. Secrets the sandbox holds (client secrets, tokens, presigned URL tokens) are not
shown.
"""

import gzip

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from seller_central_sandbox.models import (
    SandboxAccessToken,
    SandboxApplicationToken,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxNotification,
    SandboxNotificationDestination,
    SandboxNotificationSubscription,
    SandboxOrder,
    SandboxOrderEvent,
    SandboxOrderItem,
    SandboxPackage,
    SandboxRefund,
    SandboxSeller,
)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


@admin.register(SandboxSeller)
class SandboxSellerAdmin(ReadOnlyModelAdmin):
    list_display = (
        "seller_id",
        "name",
        "client_id",
        "is_refresh_token_revoked",
        "fault_fail_next",
        "fault_fail_probability",
        "fault_latency_ms",
        "created_at",
    )
    list_filter = ("is_refresh_token_revoked",)
    search_fields = ("seller_id", "name", "client_id")
    fields = (
        "seller_id",
        "name",
        "client_id",
        "marketplace_ids",
        "is_refresh_token_revoked",
        "fault_fail_next",
        "fault_fail_status",
        "fault_fail_probability",
        "fault_latency_ms",
        "fault_malformed_next",
        "created_at",
    )


@admin.register(SandboxAccessToken)
class SandboxAccessTokenAdmin(ReadOnlyModelAdmin):
    list_display = ("seller", "token_start", "expires_at", "is_revoked", "created_at")
    list_filter = ("is_revoked",)
    list_select_related = ("seller",)
    search_fields = ("seller__seller_id",)
    fields = ("seller", "token_start", "expires_at", "is_revoked", "created_at")

    @admin.display(description=_("token"))
    def token_start(self, token):
        # Enough to tell tokens apart, not enough to call the API with.
        return f"{token.token[:6]}…"


class SandboxOrderItemInline(ReadOnlyTabularInline):
    model = SandboxOrderItem
    fields = (
        "order_item_id",
        "seller_sku",
        "asin",
        "title",
        "quantity_ordered",
        "quantity_shipped",
        "quantity_cancelled",
        "unit_price",
        "item_tax",
        "cancel_reason",
    )


class SandboxPackageInline(ReadOnlyTabularInline):
    model = SandboxPackage
    fields = (
        "package_reference_id",
        "carrier_code",
        "shipping_method",
        "tracking_number",
        "ship_date",
        "package_items",
    )


class SandboxRefundInline(ReadOnlyTabularInline):
    model = SandboxRefund
    fields = ("item", "feed_id", "reason", "principal", "shipping", "tax", "created_at")


class SandboxOrderEventInline(ReadOnlyTabularInline):
    model = SandboxOrderEvent
    fields = ("created_at", "actor", "kind", "old_status", "new_status", "message")


@admin.register(SandboxOrder)
class SandboxOrderAdmin(ReadOnlyModelAdmin):
    list_display = (
        "order_id",
        "seller",
        "status",
        "fulfilled_by",
        "marketplace_id",
        "created_time",
        "last_updated_time",
    )
    list_filter = ("status", "fulfilled_by", "marketplace_id", "seller")
    list_select_related = ("seller",)
    search_fields = ("order_id",)
    date_hierarchy = "created_time"
    fields = (
        "order_id",
        "seller",
        "marketplace_id",
        "status",
        "fulfilled_by",
        "currency_code",
        "created_time",
        "last_updated_time",
        "details",
    )
    inlines = (
        SandboxOrderItemInline,
        SandboxPackageInline,
        SandboxRefundInline,
        SandboxOrderEventInline,
    )


@admin.register(SandboxOrderEvent)
class SandboxOrderEventAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "order", "actor", "kind", "old_status", "new_status")
    list_filter = ("actor", "kind")
    list_select_related = ("order",)
    search_fields = ("order__order_id",)
    fields = ("created_at", "order", "actor", "kind", "old_status", "new_status", "message")


@admin.register(SandboxRefund)
class SandboxRefundAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "order", "item", "reason", "principal", "shipping", "tax")
    list_filter = ("reason",)
    list_select_related = ("order", "item")
    search_fields = ("order__order_id", "feed_id")
    fields = ("order", "item", "feed_id", "reason", "principal", "shipping", "tax", "created_at")


@admin.register(SandboxFeedDocument)
class SandboxFeedDocumentAdmin(ReadOnlyModelAdmin):
    list_display = (
        "document_id",
        "seller",
        "content_type",
        "compression_algorithm",
        "is_result",
        "created_at",
    )
    list_filter = ("is_result", "content_type", "compression_algorithm")
    list_select_related = ("seller",)
    search_fields = ("document_id",)
    fields = (
        "document_id",
        "seller",
        "content_type",
        "compression_algorithm",
        "is_result",
        "url_expires_at",
        "created_at",
        "document",
    )

    @admin.display(description=_("content"))
    def document(self, document):
        if not document.content:
            return "-"
        content = bytes(document.content)
        if document.compression_algorithm == "GZIP":
            # Stored as served: show what the seller reads once it is decompressed.
            content = gzip.decompress(content)
        text = content.decode("utf-8", errors="replace")
        return format_html('<pre class="document">{}</pre>', text)


@admin.register(SandboxFeed)
class SandboxFeedAdmin(ReadOnlyModelAdmin):
    list_display = ("feed_id", "seller", "feed_type", "processing_status", "created_time")
    list_filter = ("processing_status", "feed_type", "seller")
    list_select_related = ("seller",)
    search_fields = ("feed_id",)
    date_hierarchy = "created_time"
    fields = (
        "feed_id",
        "seller",
        "feed_type",
        "marketplace_ids",
        "input_document",
        "result_document",
        "processing_status",
        "created_time",
        "processing_start_time",
        "processing_end_time",
    )


@admin.register(SandboxApplicationToken)
class SandboxApplicationTokenAdmin(ReadOnlyModelAdmin):
    """Grantless tokens (client_credentials): the application's, no seller's."""

    list_display = ("client_id", "token_start", "scope", "expires_at", "created_at")
    list_filter = ("scope",)
    search_fields = ("client_id",)
    fields = ("client_id", "token_start", "scope", "expires_at", "created_at")

    @admin.display(description=_("token"))
    def token_start(self, token):
        # Enough to tell tokens apart, not enough to call the API with.
        return f"{token.token[:6]}…"


@admin.register(SandboxNotificationDestination)
class SandboxNotificationDestinationAdmin(ReadOnlyModelAdmin):
    list_display = ("destination_id", "client_id", "name", "sqs_arn", "created_at")
    search_fields = ("destination_id", "client_id", "sqs_arn")


@admin.register(SandboxNotificationSubscription)
class SandboxNotificationSubscriptionAdmin(ReadOnlyModelAdmin):
    list_display = ("subscription_id", "seller", "notification_type", "destination", "created_at")
    list_filter = ("notification_type",)
    list_select_related = ("seller", "destination")
    search_fields = ("subscription_id", "seller__seller_id")


@admin.register(SandboxNotification)
class SandboxNotificationAdmin(ReadOnlyModelAdmin):
    list_display = (
        "created_at",
        "seller",
        "notification_type",
        "delivery",
        "copies",
        "delay_seconds",
        "queue_arn",
    )
    list_filter = ("delivery", "notification_type")
    list_select_related = ("seller",)
    search_fields = ("notification_id", "seller__seller_id")
    date_hierarchy = "created_at"
