from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from amazon_channel.models import (
    AmazonOrder,
    AmazonOrderEvent,
    AmazonOrderItem,
    AmazonOrderPackage,
    Store,
    SyncRun,
)
from amazon_channel.services.stores import store_set_active, store_sync_request
from commerce_orders.admin import AppendOnlyAdminMixin


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
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
    actions = ("sync_now", "activate", "deactivate")
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
            {
                "fields": (
                    "is_import_enabled",
                    "customer_creation",
                    "order_number_source",
                    "is_pending_quantity_reserved",
                    "order_status_source",
                    "processing_status",
                )
            },
        ),
    )

    @admin.action(description=_("Sync now"), permissions=["sync"])
    def sync_now(self, request, queryset):
        for store in queryset:
            store_sync_request(store=store)
        count = len(queryset)
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
            store_set_active(store=store, is_active=True)

    @admin.action(description=_("Deactivate"), permissions=["change"])
    def deactivate(self, request, queryset):
        for store in queryset:
            store_set_active(store=store, is_active=False)

    def has_sync_permission(self, request):
        return request.user.has_perm("amazon_channel.sync_store")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The beat entry follows the store's active flag.
        store_set_active(store=obj, is_active=obj.is_active)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # Secrets are typed in password inputs, so they are not shown on screen.
        for name in ("lwa_client_secret", "refresh_token"):
            if name in form.base_fields:
                form.base_fields[name].widget = forms.PasswordInput(render_value=True)
        return form


class AmazonOrderItemInline(admin.TabularInline):
    model = AmazonOrderItem
    extra = 0
    can_delete = False
    fields = (
        "order_item_id",
        "asin",
        "seller_sku",
        "title",
        "condition",
        "quantity_ordered",
        "quantity_shipped",
        "item_price",
        "item_tax",
        "shipping_price",
    )
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
    fields = ("created_at", "kind", "actor", "old_status", "new_status", "message")
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
    date_hierarchy = "purchase_date"
    show_full_result_count = False
    list_filter = (
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
        "commerce_import_error",
    )
    inlines = (AmazonOrderItemInline, AmazonOrderPackageInline, AmazonOrderEventInline)


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
        "commerce_orders_created",
        "throttled_calls",
        "retried_errors",
    )
    list_filter = ("status", "kind", "store")
    list_select_related = ("store",)
    date_hierarchy = "started_at"
    show_full_result_count = False
