from django.contrib import admin

from commerce_orders.models import (
    CommerceOrder,
    CommerceOrderEvent,
    CommerceOrderItem,
    Customer,
    OrderAddress,
    Product,
)


class AppendOnlyAdminMixin:
    """History rows are written by services only; admins read them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "price", "quantity_in_stock", "quantity_reserved")
    search_fields = ("sku", "name")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "created_at")
    search_fields = ("email", "first_name", "last_name")


class OrderAddressInline(admin.StackedInline):
    model = OrderAddress
    extra = 0


class CommerceOrderItemInline(admin.TabularInline):
    model = CommerceOrderItem
    extra = 0
    raw_id_fields = ("product",)


class CommerceOrderEventInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = CommerceOrderEvent
    extra = 0
    fields = ("created_at", "action", "actor", "old_status", "new_status", "comment")
    readonly_fields = fields


@admin.register(CommerceOrder)
class CommerceOrderAdmin(admin.ModelAdmin):
    list_display = (
        "increment_id",
        "created_at",
        "customer_name",
        "status",
        "grand_total",
        "currency",
        "external_channel",
        "external_order_id",
    )
    list_filter = ("state", "status", "external_channel")
    search_fields = (
        "increment_id",
        "external_order_id",
        "customer_name",
        "customer_email",
        "po_number",
    )
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ("customer",)
    inlines = (OrderAddressInline, CommerceOrderItemInline, CommerceOrderEventInline)


@admin.register(CommerceOrderEvent)
class CommerceOrderEventAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "order", "action", "actor", "old_status", "new_status")
    list_filter = ("action",)
    list_select_related = ("order", "actor")
    search_fields = ("order__increment_id",)
    show_full_result_count = False
