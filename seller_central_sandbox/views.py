"""The control page at /sandbox/: thin views over the sandbox's services and selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from seller_central_sandbox.forms import (
    AmazonBehaviourForm,
    FaultsForm,
    IntegrationFeedForm,
    LifecycleForm,
    NotificationDeliveryForm,
    OrdersGenerateForm,
    OrderStepForm,
    TokensForm,
    UsagePlanForm,
)
from seller_central_sandbox.models import NotificationDelivery, SandboxSeller
from seller_central_sandbox.selectors import (
    orders_for_control_page,
    sellers_for_control_page,
    usage_plans_for_control_page,
)
from seller_central_sandbox.services.integrations import integration_acknowledgements_submit
from seller_central_sandbox.services.notifications import (
    notification_counts,
    seller_notification_faults_set,
)
from seller_central_sandbox.services.orders import (
    order_lifecycle_step,
    orders_generate,
    orders_lifecycle_advance,
)
from seller_central_sandbox.services.sellers import (
    FaultSettings,
    SandboxError,
    seller_access_tokens_expire,
    seller_amazon_behaviour_set,
    seller_faults_update,
    seller_rate_limits_refill,
    seller_tokens_restore,
    seller_tokens_revoke,
    seller_usage_plan_set,
)

# Login is required by LoginRequiredMiddleware; then 403 without the sandbox's own permission
# (the Operations role has it, superusers too): being staff is not enough.
CONTROL_SANDBOX = "seller_central_sandbox.control_sandbox"
control_required = permission_required(CONTROL_SANDBOX, raise_exception=True)


@require_GET
@control_required
def seller_list(request: HttpRequest) -> HttpResponse:
    sellers = [
        (
            seller,
            FaultsForm(
                initial={
                    "fail_next": seller.fault_fail_next,
                    "fail_status": seller.fault_fail_status,
                    "fail_probability": seller.fault_fail_probability,
                    "latency_ms": seller.fault_latency_ms,
                    "malformed_next": seller.fault_malformed_next,
                },
                auto_id=f"id_{seller.seller_id}_%s",
            ),
        )
        for seller in sellers_for_control_page()
    ]
    return render(
        request,
        "seller_central_sandbox/seller_list.html",
        {
            "sellers": sellers,
            "generate_form": OrdersGenerateForm(),
            "lifecycle_form": LifecycleForm(),
            "tokens_form": TokensForm(),
        },
    )


@require_GET
@control_required
def seller_detail(request: HttpRequest, seller_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)
    return render(
        request,
        "seller_central_sandbox/seller_detail.html",
        {
            "seller": seller,
            "orders": orders_for_control_page(seller=seller),
            "step_form": OrderStepForm(),
            "behaviour_form": AmazonBehaviourForm(
                initial={
                    "clock_offset_seconds": seller.clock_offset_seconds,
                    "roles": seller.roles,
                    "result_compression": seller.result_compression,
                    "fatal_next": seller.fault_feed_fatal_next,
                    "fatal_applied": seller.fault_feed_fatal_applied,
                    "has_fatal_report": seller.fault_feed_fatal_report,
                }
            ),
            "usage_plan_form": UsagePlanForm(),
            "usage_plans": usage_plans_for_control_page(seller=seller),
            "integration_form": IntegrationFeedForm(),
            "notification_form": NotificationDeliveryForm(
                initial={
                    "copies": seller.notification_copies,
                    "delay_seconds": seller.notification_delay_seconds,
                    "drop_share": seller.notification_drop_share,
                    "is_order_swapped": seller.is_notification_order_swapped,
                    "is_new_order_notified": seller.is_new_order_notified,
                    "is_body_a_string": seller.is_notification_body_a_string,
                }
            ),
            "notification_counts": [
                (NotificationDelivery(delivery).label, count)
                for delivery, count in notification_counts(seller=seller).items()
            ],
        },
    )


def _done(request: HttpRequest, seller: SandboxSeller, form, action) -> HttpResponse:
    if not form.is_valid():
        messages.error(request, _("Please correct the form: %s") % form.errors.as_text())
    else:
        try:
            message = action(form.cleaned_data)
        except SandboxError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, message)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "seller_central_sandbox:seller_list"
    return redirect(target)


@require_POST
@control_required
def orders_generate_view(request: HttpRequest, seller_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)

    def action(data):
        orders = orders_generate(
            seller=seller, count=data["count"], seed=data["seed"], now=data["now"]
        )
        return ngettext(
            "%(count)d order generated.", "%(count)d orders generated.", len(orders)
        ) % {"count": len(orders)}

    return _done(request, seller, OrdersGenerateForm(request.POST), action)


@require_POST
@control_required
def lifecycle_view(request: HttpRequest, seller_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)

    def action(data):
        steps = orders_lifecycle_advance(seller=seller, seed=data["seed"], now=data["now"])
        return _("Lifecycle advanced: %(steps)s") % {
            "steps": ", ".join(f"{name} {count}" for name, count in sorted(steps.items()))
            or _("nothing to do")
        }

    return _done(request, seller, LifecycleForm(request.POST), action)


@require_POST
@control_required
def faults_view(request: HttpRequest, seller_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)

    def action(data):
        seller_faults_update(seller=seller, faults=FaultSettings(**data))
        return _("Fault injection saved.")

    return _done(request, seller, FaultsForm(request.POST), action)


@require_POST
@control_required
def tokens_view(request: HttpRequest, seller_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)
    actions = {
        "revoke": lambda: seller_tokens_revoke(seller=seller),
        "restore": lambda: seller_tokens_restore(seller=seller),
        "expire": lambda: seller_access_tokens_expire(seller=seller),
        "refill": lambda: seller_rate_limits_refill(seller=seller),
    }

    def action(data):
        actions[data["action"]]()
        return _("Done.")

    return _done(request, seller, TokensForm(request.POST), action)


@require_POST
@control_required
def order_step_view(request: HttpRequest, seller_id: str, order_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)

    def action(data):
        order = order_lifecycle_step(seller=seller, order_id=order_id, step=data["step"])
        return _("Order %(order)s is now %(status)s.") % {
            "order": order.order_id,
            "status": order.get_status_display(),
        }

    return _done(request, seller, OrderStepForm(request.POST), action)


@require_POST
@control_required
def behaviour_view(request: HttpRequest, seller_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)

    def action(data):
        seller_amazon_behaviour_set(
            seller=seller,
            clock_offset_seconds=data["clock_offset_seconds"],
            roles=data["roles"],
            fatal_next=data["fatal_next"],
            fatal_applied=data["fatal_applied"],
            has_fatal_report=data["has_fatal_report"],
            result_compression=data["result_compression"],
        )
        return _("Amazon's behaviour saved.")

    return _done(request, seller, AmazonBehaviourForm(request.POST), action)


@require_POST
@control_required
def usage_plan_view(request: HttpRequest, seller_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)

    def action(data):
        seller_usage_plan_set(
            seller=seller, operation=data["operation"], rate=data["rate"], burst=data["burst"]
        )
        if data["rate"] is None and data["burst"] is None:
            return _("%(operation)s is back on its documented usage plan.") % {
                "operation": data["operation"]
            }
        return _("Usage plan of %(operation)s saved.") % {"operation": data["operation"]}

    return _done(request, seller, UsagePlanForm(request.POST), action)


@require_POST
@control_required
def integration_feed_view(request: HttpRequest, seller_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)

    def action(data):
        feed = integration_acknowledgements_submit(seller=seller, application=data["application"])
        return _("%(application)s submitted feed %(feed)s.") % {
            "application": feed.application,
            "feed": feed.feed_id,
        }

    return _done(request, seller, IntegrationFeedForm(request.POST), action)


@require_POST
@control_required
def notifications_view(request: HttpRequest, seller_id: str) -> HttpResponse:
    seller = get_object_or_404(SandboxSeller, seller_id=seller_id)

    def action(data):
        seller_notification_faults_set(
            seller=seller,
            copies=data["copies"],
            delay_seconds=data["delay_seconds"],
            drop_share=data["drop_share"],
            is_order_swapped=data["is_order_swapped"],
            is_new_order_notified=data["is_new_order_notified"],
            is_body_a_string=data["is_body_a_string"],
        )
        return _("Notification delivery saved.")

    return _done(request, seller, NotificationDeliveryForm(request.POST), action)
