"""The only door to Amazon: python-amazon-sp-api, configured per store, behind the shared limiter.

Every call takes a token from the shared rate limiter first (never sleeping: `RateLimited` says
how long to wait), has a timeout, and turns the library's outcomes into four kinds of error the
callers act on: retry later (`AmazonRetryableError`), credentials rejected
(`AmazonAuthorizationError`), a request Amazon refuses (`AmazonRequestError`) and not found.
"""

import io
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

import httpx
from cachetools import TTLCache
from django.conf import settings
from sp_api.api import Feeds, Orders
from sp_api.auth import AccessTokenClient
from sp_api.auth.access_token_response import AccessTokenResponse
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base.exceptions import SellingApiException

from amazon_channel.models import Store
from amazon_channel.ratelimit import get_rate_limiter

logger = logging.getLogger(__name__)

ORDERS_VERSION = "2026-01-01"
# Amazon's documented (rate per second, burst) per operation; see ../shared/SP-API.md.
OPERATION_LIMITS = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "getFeeds": (0.0222, 10),
}
# The datasets the dashboard and the Commerce order need; order items always come.
SEARCH_INCLUDED_DATA = ["BUYER", "RECIPIENT", "PROCEEDS", "FULFILLMENT", "PACKAGES", "CANCELLATION"]


class AmazonError(Exception):
    """Anything that went wrong talking to Amazon; `message` is plain words for merchants."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class AmazonRetryableError(AmazonError):
    """Throttled, 5xx, timeout, network or a malformed answer: try again later."""

    def __init__(self, message: str, *, status_code: int | None = None, wait_seconds: float = 0):
        super().__init__(message, status_code=status_code)
        self.wait_seconds = wait_seconds


class RateLimited(AmazonRetryableError):
    """Our shared limiter had no token: nothing was sent."""


class AmazonThrottled(AmazonRetryableError):
    """Amazon answered 429 QuotaExceeded."""


class AmazonAuthorizationError(AmazonError):
    """Amazon rejected the store's credentials: the merchant must reauthorize."""


class AmazonRequestError(AmazonError):
    """Amazon refused the request (4xx): retrying the same request will not help."""


class AmazonNotFound(AmazonRequestError):
    pass


_token_cache: TTLCache = TTLCache(maxsize=1024, ttl=3000)
_token_cache_lock = threading.Lock()


class StoreAccessTokenClient(AccessTokenClient):
    """Login with Amazon at a configurable endpoint; tokens cached per endpoint and refresh token.

    Subclasses set `scheme`, `host` and `path` (the library's documented way to point it
    elsewhere). The cache is ours so that a token Amazon stopped accepting can be dropped.
    """

    def cache_key(self) -> tuple[str, str, str]:
        return (self.scheme + self.host + self.path, self.cred.client_id, self.cred.refresh_token)

    def get_auth(self) -> AccessTokenResponse:
        key = self.cache_key()
        with _token_cache_lock:
            token = _token_cache.get(key)
        if token is None:
            token = self._request(self.scheme + self.host + self.path, self.data, self.headers)
            with _token_cache_lock:
                _token_cache[key] = token
        return AccessTokenResponse(**token)

    def forget(self) -> None:
        with _token_cache_lock:
            _token_cache.pop(self.cache_key(), None)


@lru_cache(maxsize=64)
def token_client_class(token_endpoint: str) -> type[StoreAccessTokenClient]:
    parts = urlsplit(token_endpoint)
    return type(
        "StoreAccessTokenClientFor" + parts.netloc.replace(".", "_").replace(":", "_"),
        (StoreAccessTokenClient,),
        {"scheme": f"{parts.scheme}://", "host": parts.netloc, "path": parts.path or "/"},
    )


@dataclass(frozen=True)
class StoreMarketplace:
    """What the library needs of a marketplace: its endpoint is the store's configuration."""

    endpoint: str
    marketplace_id: str
    region: str


def library_endpoint(endpoint: str) -> str:
    # The library sends `Host: endpoint[8:]`, right for https:// only; "http://@host" keeps
    # the same URL and makes the cut land on the host.
    endpoint = endpoint.rstrip("/")
    if endpoint.startswith("http://") and not endpoint.startswith("http://@"):
        return "http://@" + endpoint[len("http://") :]
    return endpoint


@dataclass(frozen=True)
class SearchPage:
    orders: list[dict]
    next_token: str | None


def iso8601(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class AmazonClient:
    """SP-API calls for one store."""

    def __init__(self, store: Store, *, timeout: float | None = None):
        self.store = store
        self.timeout = timeout or settings.AMAZON_REQUEST_TIMEOUT_SECONDS
        self.limiter = get_rate_limiter()
        self.rate_scale = settings.AMAZON_RATE_LIMIT_SCALE
        self.marketplace = StoreMarketplace(
            endpoint=library_endpoint(store.sp_api_endpoint),
            marketplace_id=store.marketplace_id,
            region=store.region,
        )
        self.credentials = {
            "refresh_token": store.refresh_token,
            "lwa_app_id": store.lwa_client_id,
            "lwa_client_secret": store.lwa_client_secret,
        }
        self.token_client_class = token_client_class(store.token_endpoint)

    def _orders(self):
        return Orders(
            marketplace=self.marketplace,
            version=ORDERS_VERSION,
            credentials=self.credentials,
            refresh_token=self.store.refresh_token,
            auth_token_client_class=self.token_client_class,
            timeout=self.timeout,
        )

    def _feeds(self):
        return Feeds(
            marketplace=self.marketplace,
            credentials=self.credentials,
            refresh_token=self.store.refresh_token,
            auth_token_client_class=self.token_client_class,
            timeout=self.timeout,
        )

    def paced_rate(self, operation: str) -> float:
        """Tokens per second our limiter grants for this operation and seller."""
        rate, _burst = OPERATION_LIMITS[operation]
        return rate * self.rate_scale * (1 - settings.AMAZON_RATE_LIMIT_MARGIN)

    def _take_token(self, operation: str) -> None:
        wait = self.limiter.acquire(
            f"{self.store.seller_id}:{self.store.region}:{operation}",
            rate=self.paced_rate(operation),
            burst=OPERATION_LIMITS[operation][1],
        )
        if wait > 0:
            raise RateLimited(
                f"{operation} is rate limited for this seller; next call in {wait:.1f} s.",
                wait_seconds=wait,
            )

    def _call(self, operation: str, make_client, call):
        """Run one SP-API call with the limiter, a timeout and the error mapping."""
        self._take_token(operation)
        client = make_client()
        try:
            return self._call_mapped(operation, client, call)
        finally:
            client.close()

    def _call_mapped(self, operation: str, client, call):
        try:
            return call(client)
        except AuthorizationError as error:
            if error.status_code and error.status_code >= 500:
                raise AmazonRetryableError(
                    "Login with Amazon is unavailable.", status_code=error.status_code
                ) from error
            raise AmazonAuthorizationError(
                f"Amazon rejected the store's credentials ({error.error_code}): {error.message}",
                status_code=error.status_code,
            ) from error
        except SellingApiException as error:
            code = getattr(error, "code", 999)
            message = getattr(error, "message", "") or str(error.error)
            if code == 429:
                raise AmazonThrottled(f"Amazon throttled {operation}.", status_code=429) from error
            if code >= 500:
                raise AmazonRetryableError(
                    f"Amazon answered {code} to {operation}: {message}", status_code=code
                ) from error
            if code in (401, 403):
                # A cached access token Amazon no longer accepts: drop it, the next call logs in.
                client._auth.forget()
                raise AmazonAuthorizationError(
                    f"Amazon denied access ({code}): {message}", status_code=code
                ) from error
            if code == 404:
                raise AmazonNotFound(message or "Not found.", status_code=404) from error
            raise AmazonRequestError(
                f"Amazon refused {operation} ({code}): {message}", status_code=code
            ) from error
        except httpx.TimeoutException as error:
            raise AmazonRetryableError(f"Amazon did not answer {operation} in time.") from error
        except httpx.ConnectError as error:
            raise AmazonRetryableError(
                f"Could not connect to {self.store.sp_api_endpoint} or "
                f"{self.store.token_endpoint}: check the endpoints and the network."
            ) from error
        except (httpx.TransportError, ValueError) as error:
            # Network failures, and bodies that are not JSON (the library raises ValueError).
            raise AmazonRetryableError(
                f"Could not read Amazon's answer to {operation}: {type(error).__name__}."
            ) from error

    def search_orders(
        self,
        *,
        last_updated_after: datetime,
        last_updated_before: datetime,
        pagination_token: str | None = None,
        max_results: int = 100,
    ) -> SearchPage:
        """One page of orders updated in [after, before], items included."""
        if pagination_token:
            parameters = {"paginationToken": pagination_token}
        else:
            parameters = {
                "lastUpdatedAfter": iso8601(last_updated_after),
                "lastUpdatedBefore": iso8601(last_updated_before),
                "marketplaceIds": [self.store.marketplace_id],
                "includedData": SEARCH_INCLUDED_DATA,
                "maxResultsPerPage": max_results,
            }
        response = self._call(
            "searchOrders", self._orders, lambda client: client.search_orders(**parameters)
        )
        orders = response.payload.get("orders") if isinstance(response.payload, dict) else None
        if not isinstance(orders, list):
            raise AmazonRetryableError("Amazon's searchOrders answer has no orders list.")
        return SearchPage(orders=orders, next_token=response.next_token)

    def get_order(self, order_id: str) -> dict:
        """One order with its items and the same datasets as search_orders."""
        response = self._call(
            "getOrder",
            self._orders,
            lambda client: client.get_order(order_id, includedData=SEARCH_INCLUDED_DATA),
        )
        order = response.payload.get("order") if isinstance(response.payload, dict) else None
        if not isinstance(order, dict):
            raise AmazonRetryableError("Amazon's getOrder answer has no order.")
        return order

    def _orders_v0(self):
        return Orders(
            marketplace=self.marketplace,
            version="v0",
            credentials=self.credentials,
            refresh_token=self.store.refresh_token,
            auth_token_client_class=self.token_client_class,
            timeout=self.timeout,
        )

    def confirm_shipment(self, *, amazon_order_id: str, package_detail: dict) -> None:
        """Orders v0 confirmShipment: one package (carrier, tracking, items) -> 204."""
        self._call(
            "confirmShipment",
            self._orders_v0,
            lambda client: client.confirm_shipment(
                amazon_order_id,
                marketplaceId=self.store.marketplace_id,
                packageDetail=package_detail,
            ),
        )

    def check_connection(self) -> None:
        """Log in and make one cheap authorized call. Raises an AmazonError saying what failed."""
        try:
            self.get_order("000-0000000-0000000")
        except AmazonNotFound:
            return

    def feed_document_upload(self, *, content: bytes, content_type: str) -> str:
        """createFeedDocument and the upload of `content` to its URL; returns the document id."""
        response = self._call(
            "createFeedDocument",
            self._feeds,
            lambda client: client.create_feed_document(io.BytesIO(content), content_type),
        )
        document_id = response.payload.get("feedDocumentId")
        if not document_id:
            raise AmazonRetryableError("Amazon's createFeedDocument answer has no document id.")
        return document_id

    def feed_create(self, *, feed_type: str, document_id: str) -> str:
        """createFeed for an uploaded document; returns the feed id."""
        response = self._call(
            "createFeed",
            self._feeds,
            lambda client: client.create_feed(
                feed_type, document_id, marketplaceIds=[self.store.marketplace_id]
            ),
        )
        feed_id = response.payload.get("feedId")
        if not feed_id:
            raise AmazonRetryableError("Amazon's createFeed answer has no feed id.")
        return str(feed_id)

    def feed_get(self, feed_id: str) -> dict:
        """getFeed: processingStatus and, once DONE, resultFeedDocumentId."""
        response = self._call("getFeed", self._feeds, lambda client: client.get_feed(feed_id))
        if not isinstance(response.payload, dict) or "processingStatus" not in response.payload:
            raise AmazonRetryableError("Amazon's getFeed answer has no processingStatus.")
        return response.payload

    def feeds_created_since(self, *, feed_type: str, created_since: datetime) -> list[dict]:
        """Feeds of this type and marketplace created since a moment (getFeeds), oldest first."""
        response = self._call(
            "getFeeds",
            self._feeds,
            lambda client: client.get_feeds(
                feedTypes=[feed_type],
                marketplaceIds=[self.store.marketplace_id],
                createdSince=iso8601(created_since),
                pageSize=100,
            ),
        )
        feeds = [feed for feed in response.payload.get("feeds") or [] if isinstance(feed, dict)]
        return sorted(feeds, key=lambda feed: feed.get("createdTime") or "")

    def feed_result_document(self, document_id: str) -> str:
        """getFeedDocument and the download of the processing report's text."""
        return self._call(
            "getFeedDocument",
            self._feeds,
            lambda client: client.get_feed_result_document(document_id),
        )
