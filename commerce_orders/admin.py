from django.contrib import admin
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from commerce_orders.models import (
    CommerceOrder,
    CommerceOrderEvent,
    CommerceOrderItem,
    CommerceSequence,
    CreditMemo,
    CreditMemoItem,
    Customer,
    Invoice,
    InvoiceItem,
    OrderAddress,
    Product,
    Shipment,
    ShipmentItem,
    StockReservation,
)


class AppendOnlyAdminMixin:
    """History rows are written by services only; admins read them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SalableQuantityFilter(admin.SimpleListFilter):
    title = _("salable quantity")
    parameter_name = "salable"

    def lookups(self, request, model_admin):
        return [("yes", _("In Stock")), ("no", _("Out of Stock")), ("reserved", _("Reserved"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(quantity_in_stock__gt=F("quantity_reserved"))
        if self.value() == "no":
            return queryset.filter(quantity_in_stock__lte=F("quantity_reserved"))
        if self.value() == "reserved":
            return queryset.filter(quantity_reserved__gt=0)
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "sku",
        "name",
        "price",
        "quantity_in_stock",
        "quantity_reserved",
        "quantity_salable",
    )
    list_filter = (SalableQuantityFilter,)
    search_fields = ("sku", "name")
    # Reservations move only through the stock services, under the product's row lock.
    readonly_fields = ("quantity_reserved",)

    @admin.display(description=_("salable quantity"))
    def quantity_salable(self, product):
        return product.quantity_salable


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "created_at")
    list_filter = ("created_at",)
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
    fields = ("created_at", "action", "actor", "old_status", "new_status", "comment_text")
    readonly_fields = fields


class OrderInvoiceInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = Invoice
    extra = 0
    fields = ("increment_id", "created_at", "state", "grand_total")
    readonly_fields = fields
    show_change_link = True


class OrderShipmentInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = Shipment
    extra = 0
    fields = ("increment_id", "created_at", "carrier_code", "tracking_number", "total_quantity")
    readonly_fields = fields
    show_change_link = True


class OrderCreditMemoInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = CreditMemo
    extra = 0
    fields = ("increment_id", "created_at", "grand_total", "is_returned_to_stock")
    readonly_fields = fields
    show_change_link = True


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
    # Hold and unhold keep these; only order_hold / order_unhold write them.
    readonly_fields = ("hold_before_state", "hold_before_status")
    inlines = (
        OrderAddressInline,
        CommerceOrderItemInline,
        OrderInvoiceInline,
        OrderShipmentInline,
        OrderCreditMemoInline,
        CommerceOrderEventInline,
    )


@admin.register(CommerceOrderEvent)
class CommerceOrderEventAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "order", "action", "actor", "old_status", "new_status")
    list_filter = ("action",)
    list_select_related = ("order", "actor")
    search_fields = ("order__increment_id",)
    show_full_result_count = False


class InvoiceItemInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = InvoiceItem
    extra = 0
    fields = ("sku", "name", "price", "quantity", "tax_amount", "row_total")
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Invoices are documents: created by invoice_create, never edited here."""

    list_display = ("increment_id", "created_at", "order", "state", "grand_total")
    list_filter = ("state",)
    list_select_related = ("order",)
    search_fields = ("increment_id", "order__increment_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (InvoiceItemInline,)


class ShipmentItemInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = ShipmentItem
    extra = 0
    fields = ("sku", "name", "quantity")
    readonly_fields = fields


@admin.register(Shipment)
class ShipmentAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Shipments are documents: created by shipment_create, never edited here."""

    list_display = (
        "increment_id",
        "created_at",
        "order",
        "carrier_code",
        "tracking_number",
        "total_quantity",
    )
    list_filter = ("carrier_code",)
    list_select_related = ("order",)
    search_fields = ("increment_id", "order__increment_id", "tracking_number")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (ShipmentItemInline,)


class CreditMemoItemInline(AppendOnlyAdminMixin, admin.TabularInline):
    model = CreditMemoItem
    extra = 0
    fields = ("sku", "name", "price", "quantity", "tax_amount", "row_total")
    readonly_fields = fields


@admin.register(CreditMemo)
class CreditMemoAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Credit memos are documents: created by creditmemo_create, never edited here."""

    list_display = ("increment_id", "created_at", "order", "grand_total", "is_returned_to_stock")
    list_filter = ("is_returned_to_stock",)
    list_select_related = ("order",)
    search_fields = ("increment_id", "order__increment_id")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (CreditMemoItemInline,)


@admin.register(StockReservation)
class StockReservationAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Held and released by the stock services only, so that Product.quantity_reserved agrees."""

    list_display = ("reference", "product", "quantity", "created_at", "updated_at")
    list_filter = ("created_at",)
    list_select_related = ("product",)
    search_fields = ("reference", "product__sku")


@admin.register(CommerceSequence)
class CommerceSequenceAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "last_value")
    search_fields = ("name",)
