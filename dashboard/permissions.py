"""Who may open which dashboard page and run which action: one rule, written down once.

The rule:

- A page needs the view permission of everything it shows, outer object first: the pages of a
  store need "view store"; a store's Amazon orders need "view store" and "view order"; the
  Commerce order pages need "view Commerce order".
- An action (a POST) needs the permissions of the page it is on, plus its own one.

| permissions                              | pages (GET) and actions (POST), by URL name      |
| ---------------------------------------- | ------------------------------------------------ |
| view_store                               | store_list, store_detail, store_sync_log,        |
|                                          | store_sync_status                                |
| view_store, add_store                    | store_connect, store_connect_save                |
| view_store, change_store                 | store_settings, store_settings_save,             |
|                                          | store_activate, store_deactivate,                |
|                                          | store_reauthorize, store_reauthorize_save        |
| view_store, sync_store                   | store_sync                                       |
| view_store, view_amazonorder             | order_list, order_detail,                        |
|                                          | order_cancellation_status                        |
| view_store, view_amazonorder,            | order_shipping_address_update                    |
| change_amazonorder                       |                                                  |
| view_store, view_amazonorder,            | order_cancel, order_cancel_confirm,              |
| cancel_amazonorder                       | order_cancellation_acknowledge                   |
| view_commerceorder                       | commerce_order_list, commerce_order_detail,      |
|                                          | commerce_order_export                            |
| view_commerceorder, change_commerceorder | commerce_order_mass_action, _hold, _unhold,      |
|                                          | _cancel, _email_send, _comment_add, _amazon_retry|
|                                          | commerce_order_shipment_correct                  |
| view_commerceorder, add_invoice          | commerce_order_invoice                           |
| view_commerceorder, add_shipment         | commerce_order_ship, commerce_order_ship_save    |
| view_commerceorder, add_creditmemo       | commerce_order_creditmemo, _creditmemo_save      |

`URL_PERMISSIONS` below is that table, one entry per URL name of dashboard/urls.py; each view
takes its check from it with `@permission_for("<url name>")`. A button is shown only to users
who hold its action's permissions (the templates ask `perms`).

The roles (Django groups "Merchant", "Store manager", "Operations") bundle these permissions;
they are created by amazon_channel/migrations/0012_roles.py and described in README.md.
"""

from django.contrib.auth.decorators import permission_required

VIEW_STORE = "amazon_channel.view_store"
ADD_STORE = "amazon_channel.add_store"
CHANGE_STORE = "amazon_channel.change_store"
SYNC_STORE = "amazon_channel.sync_store"
VIEW_ORDER = "amazon_channel.view_amazonorder"
CHANGE_ORDER = "amazon_channel.change_amazonorder"
CANCEL_ORDER = "amazon_channel.cancel_amazonorder"
VIEW_COMMERCE_ORDER = "commerce_orders.view_commerceorder"
CHANGE_COMMERCE_ORDER = "commerce_orders.change_commerceorder"
ADD_INVOICE = "commerce_orders.add_invoice"
ADD_SHIPMENT = "commerce_orders.add_shipment"
ADD_CREDIT_MEMO = "commerce_orders.add_creditmemo"

STORE_PAGE = (VIEW_STORE,)
AMAZON_ORDER_PAGE = (VIEW_STORE, VIEW_ORDER)
COMMERCE_ORDER_PAGE = (VIEW_COMMERCE_ORDER,)

URL_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "store_list": STORE_PAGE,
    "store_detail": STORE_PAGE,
    "store_sync_log": STORE_PAGE,
    "store_sync_status": STORE_PAGE,
    "store_connect": (*STORE_PAGE, ADD_STORE),
    "store_connect_save": (*STORE_PAGE, ADD_STORE),
    "store_settings": (*STORE_PAGE, CHANGE_STORE),
    "store_settings_save": (*STORE_PAGE, CHANGE_STORE),
    "store_activate": (*STORE_PAGE, CHANGE_STORE),
    "store_deactivate": (*STORE_PAGE, CHANGE_STORE),
    "store_reauthorize": (*STORE_PAGE, CHANGE_STORE),
    "store_reauthorize_save": (*STORE_PAGE, CHANGE_STORE),
    "store_sync": (*STORE_PAGE, SYNC_STORE),
    "order_list": AMAZON_ORDER_PAGE,
    "order_detail": AMAZON_ORDER_PAGE,
    "order_cancellation_status": AMAZON_ORDER_PAGE,
    "order_shipping_address_update": (*AMAZON_ORDER_PAGE, CHANGE_ORDER),
    "order_cancel": (*AMAZON_ORDER_PAGE, CANCEL_ORDER),
    "order_cancel_confirm": (*AMAZON_ORDER_PAGE, CANCEL_ORDER),
    "order_cancellation_acknowledge": (*AMAZON_ORDER_PAGE, CANCEL_ORDER),
    "commerce_order_list": COMMERCE_ORDER_PAGE,
    "commerce_order_detail": COMMERCE_ORDER_PAGE,
    # Exports what the grid shows to whoever may see it.
    "commerce_order_export": COMMERCE_ORDER_PAGE,
    "commerce_order_mass_action": (*COMMERCE_ORDER_PAGE, CHANGE_COMMERCE_ORDER),
    "commerce_order_hold": (*COMMERCE_ORDER_PAGE, CHANGE_COMMERCE_ORDER),
    "commerce_order_unhold": (*COMMERCE_ORDER_PAGE, CHANGE_COMMERCE_ORDER),
    "commerce_order_cancel": (*COMMERCE_ORDER_PAGE, CHANGE_COMMERCE_ORDER),
    "commerce_order_email_send": (*COMMERCE_ORDER_PAGE, CHANGE_COMMERCE_ORDER),
    "commerce_order_comment_add": (*COMMERCE_ORDER_PAGE, CHANGE_COMMERCE_ORDER),
    "commerce_order_amazon_retry": (*COMMERCE_ORDER_PAGE, CHANGE_COMMERCE_ORDER),
    # Corrects a shipment Amazon refused and sends it again: a retry with new values.
    "commerce_order_shipment_correct": (*COMMERCE_ORDER_PAGE, CHANGE_COMMERCE_ORDER),
    "commerce_order_invoice": (*COMMERCE_ORDER_PAGE, ADD_INVOICE),
    "commerce_order_ship": (*COMMERCE_ORDER_PAGE, ADD_SHIPMENT),
    "commerce_order_ship_save": (*COMMERCE_ORDER_PAGE, ADD_SHIPMENT),
    "commerce_order_creditmemo": (*COMMERCE_ORDER_PAGE, ADD_CREDIT_MEMO),
    "commerce_order_creditmemo_save": (*COMMERCE_ORDER_PAGE, ADD_CREDIT_MEMO),
}


def permission_for(url_name: str):
    """The view decorator for the page or action named `url_name`: 403 unless the user holds
    every permission of its row in URL_PERMISSIONS (an anonymous visitor is sent to the login
    page first, by LoginRequiredMiddleware). Raises KeyError, at import, for an unknown name."""
    return permission_required(URL_PERMISSIONS[url_name], raise_exception=True)
