"""The Amazon channel's message codes: order notes, Amazon's refusals, import errors and order
history, stored as codes (commerce_orders.notes) and shown in the reader's language."""

from django.utils.translation import gettext_lazy as _

from commerce_orders.notes import (
    messages_register,
    note,
    note_english,
    note_from_english,
    text_note,
)

# The channel's modules import note() and note_english() from here: their codes are then
# registered.
__all__ = ["note", "note_english", "note_from_english", "text_note"]

messages_register(
    {
        # Order Notes: what the order payload says (order_payload.py, services/orders.py).
        "order.error_kept": _(
            "Amazon sent values that cannot be stored as they are (below): the order is kept "
            "with status Error, is not imported into Commerce and is read again on every "
            "sync."
        ),
        "order.database_refused": _(
            "The database refused this order as Amazon sent it (%(reason)s): it is kept without "
            "its items, its amounts and the buyer's details until a read of it can be stored."
        ),
        "order.priceless_pending": _(
            "Amazon gives no prices while the order is pending; they will be read when it is paid."
        ),
        "order.fulfilled_by_amazon": _("Amazon fulfils this order and shares no shipping address."),
        "order.address_after_payment": _(
            "Amazon shares the recipient's name and address once the order is paid."
        ),
        "order.address_withheld": _(
            "Amazon withheld the recipient's %(parts)s, which the parcel needs. Amazon "
            "shares them only with apps that hold the Direct-to-Consumer Shipping role: "
            "the seller's authorization of this app may lack it. The order is not imported "
            "into Commerce and is read again on every sync until they arrive."
        ),
        "order.address_withheld_shipped": _(
            "Amazon shared no recipient's %(parts)s for this shipped order: the seller's "
            "authorization of this app may lack the Direct-to-Consumer Shipping role."
        ),
        "order.no_address": _("The order has no shipping address."),
        "order.no_fulfillment_channel": _("The order has no fulfillment channel."),
        "order.unknown_fulfillment_channel": _("Unknown fulfillment channel %(value)s."),
        "order.unknown_status": _("Unknown order status %(value)s."),
        "order.no_items": _("The order has no items."),
        "order.no_grand_total": _("The order has no grand total."),
        "order.negative_grand_total": _("The grand total %(amount)s is negative; it was left out."),
        "order.quantities_too_large": _(
            "The order's quantities add up to more than can be stored."
        ),
        "order.item_without_id": _("An order item has no orderItemId; it was left out."),
        "order.item_without_quantity": _("%(where)s has no valid quantityOrdered."),
        "order.item_shipped_more": _("%(where)s reports %(shipped)s shipped of %(ordered)s."),
        "order.item_without_sku": _("%(where)s has no seller SKU."),
        "order.item_price_too_large": _(
            "%(where)s: the unit price times the quantity is more than can be stored."
        ),
        "order.amounts_too_large": _(
            "%(where)s: the %(kind)s amounts add up to more than can be stored."
        ),
        "order.other_currency": _(
            "%(where)s: the %(kind)s amount %(amount)s %(currency)s is not in the order's "
            "currency %(order_currency)s; it was left out."
        ),
        "order.not_identifier": _("%(what)s: Amazon sent %(value)s, which is not an identifier."),
        "order.too_long": _(
            "%(what)s: Amazon sent %(value)s; at most %(limit)d characters can be stored."
        ),
        "order.not_text": _("%(what)s: Amazon sent %(value)s instead of text; it was left out."),
        "order.text_cut": _(
            "%(what)s: Amazon sent %(count)d characters; the first %(limit)d are kept."
        ),
        "order.not_date": _("%(what)s: Amazon sent %(value)s, which is not a possible date."),
        "order.amount_left_out": _("%(what)s %(value)s %(reason)s; it was left out."),
        "order.quantity_unstorable": _(
            "%(what)s: Amazon sent the quantity %(value)s, which cannot be stored."
        ),
        "order.appears_twice": _("%(what)s %(id)s appears twice; the second was left out."),
        # Parts of the sentences above.
        "part.excerpt": _("%(start)s… (%(count)d characters)"),
        "part.json_object": _("a JSON object"),
        "part.json_array": _("a JSON array"),
        "part.a_value": _("a value"),
        "part.not_money": _("is not an amount of money"),
        "part.not_number": _("is not a number"),
        "part.too_large": _("is too large to store"),
        "part.decimal_places": _("has more than %(places)d decimal places"),
        "part.negative": _("is negative"),
        "part.item": _("Item %(id)s"),
        "part.package": _("Package %(id)s"),
        "part.of": _("%(where)s: %(part)s"),
        "part.kind_amount": _("the %(kind)s amount"),
        "part.sku": _("the SKU"),
        "part.unit_price": _("the unit price"),
        "part.asin": _("the ASIN"),
        "part.title": _("the title"),
        "part.condition": _("the condition"),
        "part.carrier": _("the carrier"),
        "part.shipping_service": _("the shipping service"),
        "part.tracking_number": _("the tracking number"),
        "part.status": _("the status"),
        "part.an_item_id": _("an item id"),
        "part.a_quantity": _("a quantity"),
        "part.item_id_label": _("An item id"),
        "part.package_reference_label": _("A package reference"),
        "part.order_number_label": _("The order number"),
        "part.currency_label": _("The currency"),
        "part.item_label": _("Item"),
        "part.grand_total_label": _("The grand total"),
        "part.marketplace_id_label": _("The marketplace id"),
        "part.service_level_label": _("The service level"),
        "part.buyer_name_label": _("The buyer's name"),
        "part.buyer_email_label": _("The buyer's email"),
        "part.buyer_cancellation_reason_label": _("The buyer's cancellation reason"),
        "part.package_label": _("Package"),
        "part.address_name": _("name"),
        "part.address_street": _("street"),
        "part.address_postal_code": _("postal code"),
        "part.shipment": _("shipment"),
        "part.refund": _("refund"),
        "part.cancellation": _("cancellation"),
        # Why no Commerce order was created (services/commerce.py).
        "import.not_created": _("Commerce order not created: %(error)s"),
        "import.not_created_problems": _("Commerce order not created: %(problems)s."),
        "import.address_withheld": _(
            "Commerce order not created: Amazon withheld the recipient's %(parts)s "
            "(the seller's authorization of this app may lack the Direct-to-Consumer "
            "Shipping role). Retried on every sync until they arrive."
        ),
        "import.stock_not_reserved": _("Stock not reserved: %(problems)s."),
        "import.total_differs": _(
            "Commerce total %(commerce)s %(currency)s differs from Amazon's %(amazon)s "
            "%(currency)s by %(difference)s %(currency)s."
        ),
        "import.item_without_price": _("Item %(sku)s has no price yet."),
        # Order history and the Commerce order's history.
        "history.commerce_order_created": _("Commerce order %(number)s created."),
        "history.shipped_on_amazon": _("Shipped on Amazon."),
        "history.canceled_on_amazon": _("Canceled on Amazon."),
        "history.address_changed": _("Shipping address changed by %(user)s: %(fields)s"),
        "history.rejected_cancellation_reviewed": _("Rejected cancellation reviewed."),
        "history.cancellation_resent": _(
            "Amazon had not applied the cancellation and the order is still "
            "unshipped: sending it to Amazon again."
        ),
        "history.accepted": _("Amazon accepted the %(kind)s."),
        "history.sending_again": _("Sending the %(kind)s to Amazon again."),
        "history.sending_again_confirmed": _(
            "Seller Central does not show the %(kind)s (confirmed by the user): "
            "sending it to Amazon again."
        ),
        # What SP-API calls said (spapi.py), in a store's history.
        "store.credentials_rejected": _(
            "Amazon rejected the store's credentials (%(code)s): %(message)s"
        ),
        "store.login_unavailable": _("Login with Amazon is unavailable."),
        # What went wrong talking to Amazon (spapi/client.py): an AmazonError's message, kept
        # as text by a sync run, a store's sync state and an outbox message, and shown in the
        # reader's language (commerce_orders.notes.sentence_render).
        "spapi.throttled": _("Amazon throttled %(operation)s."),
        "spapi.rate_limited": _(
            "%(operation)s is rate limited for this seller; next call in %(seconds)s s."
        ),
        "spapi.server_error": _("Amazon answered %(code)s to %(operation)s: %(message)s"),
        "spapi.access_denied": _("Amazon denied access (%(code)s): %(message)s"),
        "spapi.orders_access_denied": _(
            "Amazon denied access to orders (403): %(message)s The seller's authorization may "
            "lack the Inventory and Order Tracking role, which reading orders needs: check the "
            "roles granted to this app in Seller Central, then authorize it again."
        ),
        "spapi.not_found": _("Not found."),
        "spapi.refused": _("Amazon refused %(operation)s (%(code)s): %(message)s"),
        "spapi.unreachable": _(
            "Could not reach Amazon for %(operation)s, or its answer could not be read: check "
            "the endpoints and the network."
        ),
        "spapi.no_marketplaces": _(
            "Amazon accepted the credentials but lists no marketplace this seller participates "
            "in, so the store's marketplace %(marketplace)s cannot be used."
        ),
        "spapi.other_marketplaces": _(
            "Amazon accepted the credentials, but the seller does not participate in the "
            "store's marketplace %(marketplace)s. The seller participates in: "
            "%(participating)s."
        ),
        "spapi.no_orders_list": _("Amazon's searchOrders answer has no orders list."),
        "spapi.no_order": _("Amazon's getOrder answer has no order."),
        "spapi.no_marketplace_list": _(
            "Amazon's getMarketplaceParticipations answer has no list of marketplaces."
        ),
        "spapi.no_document_id": _("Amazon's createFeedDocument answer has no document id."),
        "spapi.no_feed_id": _("Amazon's createFeed answer has no feed id."),
        "spapi.no_processing_status": _("Amazon's getFeed answer has no processingStatus."),
        "spapi.no_feeds_list": _("Amazon's getFeeds answer has no feeds list."),
        "spapi.too_many_feed_pages": _("Amazon's getFeeds answer has too many pages to read now."),
        "spapi.no_document_url": _("Amazon's getFeedDocument answer has no document URL."),
        "spapi.no_destinations_list": _("Amazon's getDestinations answer has no list."),
        "spapi.no_destination_id": _("Amazon's createDestination answer has no destination id."),
        "spapi.no_subscription": _("Amazon's %(operation)s answer has no subscription."),
        "spapi.document_timeout": _("Amazon's document storage did not answer in time."),
        "spapi.document_not_downloaded": _("Could not download Amazon's document (%(error)s)."),
        "spapi.document_url_refused": _(
            "Amazon's document storage refused the download (403): the URL may have expired; "
            "a new one will be asked for."
        ),
        "spapi.document_storage_answered": _("Amazon's document storage answered %(status)s."),
        "spapi.document_too_large": _("Amazon's document is larger than this app reads."),
        "spapi.document_compression": _(
            "Amazon compressed the document with %(algorithm)s, which this app cannot read."
        ),
        "spapi.document_not_utf8": _("Could not read Amazon's document: it is not UTF-8 text."),
        "spapi.document_gzip_corrupt": _(
            "Could not read Amazon's document: its GZIP data is corrupt (%(error)s)."
        ),
        # Endpoints a store must not use (spapi/marketplaces.py): on the store forms, and in a
        # sync's message when nothing was sent.
        "endpoint.production_host": _(
            "A Sandbox store cannot use Amazon's production endpoint %(endpoint)s: Amazon "
            "accepts the same credentials there and it would act on real orders."
        ),
        "endpoint.production_host_use": _(
            "A Sandbox store cannot use Amazon's production endpoint %(endpoint)s: Amazon "
            "accepts the same credentials there and it would act on real orders. Use "
            "%(expected)s, or leave the endpoint empty to get it."
        ),
        "endpoint.sandbox_host": _(
            "A Production store cannot use Amazon's sandbox endpoint %(endpoint)s: its orders "
            "there are test data."
        ),
        "endpoint.sandbox_host_use": _(
            "A Production store cannot use Amazon's sandbox endpoint %(endpoint)s: its orders "
            "there are test data. Use %(expected)s, or leave the endpoint empty to get it."
        ),
        "endpoint.sp_api_hosts_only": _(
            "The SP-API endpoint must be one of Amazon's SP-API hosts: %(hosts)s. Other "
            "endpoints exist only while the Seller Central sandbox is enabled."
        ),
        "endpoint.token_hosts_only": _(
            "The token endpoint must be one of Login with Amazon's: %(endpoints)s. Other "
            "endpoints exist only while the Seller Central sandbox is enabled."
        ),
        "spapi.no_token_asked": _("No token was asked for. %(problem)s"),
        "spapi.not_sent": _("%(operation)s was not sent. %(problem)s"),
        # Why a sync run stopped (orders/sync.py), in its message.
        "sync.stopped_deactivated": _(
            "Stopped because the store was deactivated; the orders read so far are kept."
        ),
        "sync.stopped_reauthorization": _(
            "Stopped because the store needs reauthorization: %(reason)s"
        ),
        # Amazon's notifications (notifications/setup.py), in a store's history.
        "store.notifications_on": _("Amazon's notifications are on: %(types)s."),
        "store.notifications_deleted": _("Amazon's notifications for this seller were deleted."),
        "store.notifications_kept_for_other_stores": _(
            "Amazon's notifications are kept: another active store of this seller uses them."
        ),
        "store.notifications_subscription_elsewhere": _(
            "This seller's %(type)s notifications already go to another destination of this "
            "app (%(destination)s): delete that subscription, then subscribe again."
        ),
        "store.notifications_queue_fifo": _(
            "The notifications queue is a FIFO queue, to which Amazon delivers nothing: use a "
            "standard queue."
        ),
        "store.notifications_queue_unreadable": _(
            "The notifications queue could not be read: %(error)s"
        ),
        # Amazon's refusals (services/outbox.py) and what a feed's answer said (feeds.py).
        "refusal.numbered": _("Amazon refused the %(kind)s #%(number)s: %(reason)s"),
        "refusal.plain": _("Amazon refused the %(kind)s: %(reason)s"),
        "refusal.outcome_unknown": _(
            "Amazon's answer does not say whether the %(kind)s #%(number)s was applied: "
            "check this %(kind)s in Seller Central."
        ),
        "feed.report_silent": _(
            "Amazon's processing report does not say whether this message was applied."
        ),
        "feed.fatal_report_silent": _(
            "Amazon aborted the feed (FATAL): some, none or all of its messages may have "
            "been applied, and its report does not say which for this one."
        ),
        "feed.report_unreadable": _("Amazon's processing report could not be read: %(error)s"),
        "feed.cancelled": _("Amazon cancelled the feed before processing it."),
        "feed.report_not_downloaded": _(
            "Amazon's processing report could not be downloaded: %(error)s"
        ),
        "feed.fatal_without_report": _(
            "Amazon aborted the feed (FATAL) without a report: some, none or all of its "
            "messages may have been applied."
        ),
        "feed.ended_without_report": _("Amazon ended the feed as %(status)s without a report."),
        "feed.creation_answer_lost": _(
            "Amazon's answer to the feed's creation was lost: Amazon's state of the order "
            "decides whether it was applied."
        ),
        "feed.refused": _("Amazon refused the feed: %(error)s"),
        "feed.outcome_refused": _("Amazon refused to tell the feed's outcome: %(error)s"),
        "feed.order_not_found": _(
            "Amazon does not find the order: the cancellation was not applied."
        ),
        "feed.cancellation_not_applied_twice": _(
            "Amazon did not apply the cancellation, sent twice. Its last answer: %(answer)s"
        ),
        "feed.verification_given_up": _(
            "Amazon's order does not show whether the cancellation was applied (%(reason)s): "
            "check the order in Amazon Seller Central."
        ),
        "feed.order_status_is": _("its status is %(status)s"),
        # What Amazon's order says of a cancellation it did not apply (orders/cancellation.py).
        "cancellation.shipped_since": _(
            "Amazon did not apply the cancellation, and the order has shipped since: returns "
            "and refunds are handled in Amazon Seller Central."
        ),
        "cancellation.shown_as": _(
            "Amazon did not apply the cancellation, and shows the order as %(status)s: it can "
            "only be canceled in Amazon Seller Central."
        ),
    }
)


def _cancel_reasons() -> dict:
    from amazon_channel.models import CancelReason

    return {f"cancel_reason.{value}": label for value, label in CancelReason.choices}


messages_register(_cancel_reasons())


def _order_statuses() -> dict:
    from amazon_channel.models import AmazonOrderStatus

    return {f"part.order_status.{value}": label for value, label in AmazonOrderStatus.choices}


messages_register(_order_statuses())
