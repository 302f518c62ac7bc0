"""The only door to Amazon: python-amazon-sp-api, configured per store, behind the shared limiter.

Every call takes a token from the shared rate limiter first (never sleeping: `RateLimited` says
how long to wait), has a timeout, and turns the library's outcomes into four kinds of error the
callers act on: retry later (`AmazonRetryableError`), credentials rejected
(`AmazonAuthorizationError`), a request Amazon refuses (`AmazonRequestError`) and not found.
"""

import hashlib
import io
import logging
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

import httpx
from cachetools import TTLCache
from django.conf import settings
from django.db import DatabaseError
from redis.exceptions import RedisError
from sp_api.api import Feeds, Notifications, Orders, Sellers
from sp_api.auth import AccessTokenClient
from sp_api.auth.access_token_response import AccessTokenResponse
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base.exceptions import SellingApiException
from sp_api.base.helpers import fill_query_params

from amazon_channel.models import Store
from amazon_channel.notes import note_english
from amazon_channel.spapi.marketplaces import (
    endpoint_environment_problem,
    sp_api_endpoint_host_problem,
    token_endpoint_host_problem,
)
from amazon_channel.spapi.ratelimit import get_rate_limiter, plan_rate_parse

logger = logging.getLogger(__name__)

ORDERS_VERSION = "2026-01-01"
# Amazon's documented (rate per second, burst) per operation; see ../shared/SP-API.md.
# Each operation is its own bucket (_bucket_key): getOrder's re-reads of notified orders never
# spend searchOrders' tokens. orders_2026-01-01.json, the "Usage Plan" tables of searchOrders
# (0.0056, 20) and getOrder (0.5, 30).
OPERATION_LIMITS = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "getFeeds": (0.0222, 10),
    # sellers.json, getMarketplaceParticipations "Usage Plan" table.
    "getMarketplaceParticipations": (0.016, 15),
    # notifications_v1.json: every operation's "Usage Plan" table says rate 1, burst 5.
    "getDestinations": (1.0, 5),
    "createDestination": (1.0, 5),
    "createSubscription": (1.0, 5),
    "getSubscription": (1.0, 5),
    "deleteSubscriptionById": (1.0, 5),
}
# notifications_v1.json calls these "grantless": they take the application's own token
# (Login with Amazon's client_credentials grant with this scope), not a seller's, and spend the
# application's bucket. createSubscription and getSubscription take the seller's (models#4491).
NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
GRANTLESS_OPERATIONS = frozenset({"getDestinations", "createDestination", "deleteSubscriptionById"})
NOTIFICATIONS_SUBSCRIPTION_PATH = "/notifications/v1/subscriptions/{}/{}"
FEED_DOCUMENT_PATH = "/feeds/2021-06-30/documents/{}"
FEEDS_MAX_PAGES = 20
GZIP = "GZIP"
GZIP_MAGIC = b"\x1f\x8b"
# Processing reports of 100 messages are kilobytes; anything near this is not one.
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
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


class AmazonConflict(AmazonRequestError):
    """Amazon answered 409: the resource exists already (a destination for the queue: code
    Conflict, "already exists" in the details) or conflicts with the current state (a second
    subscription of a type: StateConflict). `amazon_code` and `details` are Amazon's."""

    def __init__(self, message: str, *, amazon_code: str = "", details: str = ""):
        super().__init__(message, status_code=409)
        self.amazon_code = amazon_code
        self.details = details


class AmazonEndpointRefused(AmazonRequestError):
    """Nothing was sent: the store's SP-API endpoint is an Amazon host of the other environment
    (a sandbox store at a production host, or the reverse), or an endpoint is not Amazon's
    while the Seller Central sandbox is off."""


_token_cache: TTLCache = TTLCache(maxsize=1024, ttl=3000)
_token_cache_lock = threading.Lock()


class StoreAccessTokenClient(AccessTokenClient):
    """Login with Amazon at a configurable endpoint; tokens cached per endpoint, credentials
    and grant.

    Subclasses set `scheme`, `host` and `path` (the library's documented way to point it
    elsewhere). The cache is ours so that a token Amazon stopped accepting can be dropped.
    Two grants share it and never each other's entries: a seller's token (refresh_token grant)
    and the application's grantless token (client_credentials grant with a scope). A seller's
    token sent to a grantless operation, or the reverse, is refused by Amazon (403).
    """

    def cache_key(self, *, scope: str = "") -> str:
        # Everything Login with Amazon checks, secret included: a token got with the right secret
        # must never answer for a wrong one. Hashed so that no secret sits in memory as a key.
        # The grant comes first; a grantless token is the application's, whatever the seller,
        # so its key has the scope instead of the refresh token.
        if scope:
            grant = ("client_credentials", scope)
            owner = ""
        else:
            grant = ("refresh_token", "")
            owner = self.cred.refresh_token
        parts = (
            *grant,
            self.scheme + self.host + self.path,
            self.cred.client_id,
            self.cred.client_secret,
            owner,
        )
        return hashlib.sha256("\0".join(str(part or "") for part in parts).encode()).hexdigest()

    def _cached(self, key: str, data: dict) -> AccessTokenResponse:
        with _token_cache_lock:
            token = _token_cache.get(key)
        if token is None:
            token = self._request(self.scheme + self.host + self.path, data, self.headers)
            with _token_cache_lock:
                _token_cache[key] = token
        return AccessTokenResponse(**token)

    def get_auth(self) -> AccessTokenResponse:
        return self._cached(self.cache_key(), self.data)

    def get_grantless_auth(self, scope: str = NOTIFICATIONS_SCOPE) -> AccessTokenResponse:
        # The library's own keeps grantless tokens in a module cache keyed by refresh token and
        # scope only (not the endpoint, client or secret) and clears it on every new token.
        return self._cached(self.cache_key(scope=scope), self.grantless_data(scope))

    def forget(self, *, scope: str = "") -> None:
        with _token_cache_lock:
            _token_cache.pop(self.cache_key(scope=scope), None)

    def _request(self, url, data, headers):
        """POST to Login with Amazon (every grant passes here); the library's, plus a refusal
        before sending and answers taken as hostile input.

        Raises AmazonEndpointRefused, nothing sent, when `url` is not Login with Amazon's while
        the Seller Central sandbox is off: the body holds the client secret and the refresh
        token, and a bad row in the database must not post them elsewhere. Raises ValueError
        for an answer that is not a JSON object (or, on 200, has no access token) and
        AuthorizationError for Login with Amazon's refusals, as the library does.
        """
        problem = token_endpoint_host_problem(endpoint=url)
        if problem:
            raise AmazonEndpointRefused(note_english("spapi.no_token_asked", problem=problem))
        response = self._transport.request("POST", url, data=data, headers=headers)
        answer = response.json()
        if not isinstance(answer, dict):
            raise ValueError("the token answer is not a JSON object")
        if response.status_code != 200:
            raise AuthorizationError(
                answer.get("error"), answer.get("error_description"), response.status_code
            )
        if not isinstance(answer.get("access_token"), str):
            raise ValueError("the token answer has no access token")
        return answer


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


def _participates(participation: dict) -> bool:
    flags = participation.get("participation")
    flag = flags.get("isParticipating") if isinstance(flags, dict) else None
    # sellers.json requires the flag; without it, being listed is the only evidence we have.
    # Its meaning is loose (amzn/selling-partner-api-docs#254: true for marketplaces the seller
    # never opened), so true proves little, but false is a clear no.
    return flag is not False and str(flag).lower() != "false"


def marketplace_participation_problem(
    participations: list[dict], *, marketplace_id: str, marketplace_label: str
) -> str | None:
    """None when getMarketplaceParticipations lists `marketplace_id` as participating, else what
    is wrong in plain words, naming the marketplaces the seller does participate in.

    Amazon's list is taken as hostile input: entries without a marketplace, unknown (non-Amazon)
    marketplace ids (amzn/selling-partner-api-models#1367) and missing names are tolerated.
    """
    participating = []
    for participation in participations:
        marketplace = participation.get("marketplace")
        if not isinstance(marketplace, dict) or not marketplace.get("id"):
            continue
        if not _participates(participation):
            continue
        if marketplace["id"] == marketplace_id:
            return None
        name = marketplace.get("name")
        participating.append(f"{name} ({marketplace['id']})" if name else str(marketplace["id"]))
    if not participating:
        return note_english("spapi.no_marketplaces", marketplace=marketplace_label)
    return note_english(
        "spapi.other_marketplaces",
        marketplace=marketplace_label,
        participating=", ".join(participating),
    )


def longest_limiter_wait() -> float:
    """The refill interval of the slowest documented bucket as we pace it: the longest wait our
    limiter tells a caller (settings.LONGEST_TASK_COUNTDOWN_SECONDS counts on it)."""
    slowest = min(rate for rate, _burst in OPERATION_LIMITS.values())
    return 1 / (
        slowest * settings.AMAZON_RATE_LIMIT_SCALE * (1 - settings.AMAZON_RATE_LIMIT_MARGIN)
    )


def clock_skew_margin() -> timedelta:
    """How far Amazon's clock may run behind ours (AMAZON_CLOCK_SKEW_MARGIN_SECONDS): the times
    we send Amazon keep this margin."""
    return timedelta(seconds=settings.AMAZON_CLOCK_SKEW_MARGIN_SECONDS)


def application_key(lwa_client_id: str) -> str:
    """Which application (LWA client) a store uses, without its id: SHA-256 of the client id
    (NotificationDestination.application_key)."""
    return hashlib.sha256(lwa_client_id.encode()).hexdigest()


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

    def _refuse_endpoints_not_allowed(self, operation: str) -> None:
        """Raise AmazonEndpointRefused, before anything is sent, when the store's SP-API
        endpoint is an Amazon host of the other environment, or an endpoint is not Amazon's
        while the Seller Central sandbox is off: a bad row in the database must not let a
        sandbox store act on real orders (nor a production store on test data), nor send the
        secrets (token endpoint) or access tokens (SP-API endpoint) to another server."""
        problem = (
            endpoint_environment_problem(
                endpoint=self.store.sp_api_endpoint,
                environment=self.store.environment,
                region=self.store.region,
            )
            or sp_api_endpoint_host_problem(endpoint=self.store.sp_api_endpoint)
            or token_endpoint_host_problem(endpoint=self.store.token_endpoint)
        )
        if problem:
            raise AmazonEndpointRefused(
                note_english("spapi.not_sent", operation=operation, problem=problem)
            )

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

    def _bucket_key(self, operation: str) -> str:
        # Amazon's buckets are per selling partner and operation (and region: one per endpoint);
        # a grantless call has no selling partner and spends the application's.
        if operation in GRANTLESS_OPERATIONS:
            application = application_key(self.store.lwa_client_id)
            return f"application:{application}:{self.store.region}:{operation}"
        return f"{self.store.seller_id}:{self.store.region}:{operation}"

    def paced_rate(self, operation: str) -> float:
        """Tokens per second our limiter grants for this operation and seller: the rate Amazon
        last stated for them (x-amzn-RateLimit-Limit), else the documented one; times
        AMAZON_RATE_LIMIT_SCALE, less AMAZON_RATE_LIMIT_MARGIN."""
        rate = self.limiter.rate_learned(self._bucket_key(operation))
        if rate is None:
            rate = OPERATION_LIMITS[operation][0]
        return rate * self.rate_scale * (1 - settings.AMAZON_RATE_LIMIT_MARGIN)

    def _take_token(self, operation: str) -> None:
        # Amazon states no burst (the header carries the rate only): the documented one holds.
        wait = self.limiter.acquire(
            self._bucket_key(operation),
            rate=self.paced_rate(operation),
            burst=OPERATION_LIMITS[operation][1],
        )
        if wait > 0:
            # However low a rate Amazon states, a caller comes back no later than after the
            # slowest documented refill (settings.LONGEST_TASK_COUNTDOWN_SECONDS counts on it);
            # coming back early only asks the limiter again, nothing is sent.
            wait = min(wait, longest_limiter_wait())
            raise RateLimited(
                note_english("spapi.rate_limited", operation=operation, seconds=f"{wait:.1f}"),
                wait_seconds=wait,
            )

    def token_wait(self, operation: str) -> float:
        """Seconds until our limiter would grant this seller a token for the operation (0.0:
        now); nothing is taken, so the caller can gather work until the call can go."""
        try:
            wait = self.limiter.token_wait(
                self._bucket_key(operation),
                rate=self.paced_rate(operation),
                burst=OPERATION_LIMITS[operation][1],
            )
        except (RedisError, DatabaseError):
            # Only a hint: the call's own token (`_take_token`) still decides.
            logger.warning("could not read the rate limit of %s", operation, exc_info=True)
            return 0.0
        return min(wait, longest_limiter_wait())

    def _rate_learn(self, operation: str, headers) -> None:
        """Remember the rate Amazon states in an answer's x-amzn-RateLimit-Limit, if any."""
        if not headers:
            return
        try:
            value = headers.get("x-amzn-RateLimit-Limit")
        except AttributeError:
            return
        rate = plan_rate_parse(value) if value is not None else None
        if rate is None:
            return
        try:
            self.limiter.rate_remember(self._bucket_key(operation), rate)
        except (RedisError, DatabaseError):
            # The call itself succeeded; pacing by the documented table meanwhile is safe.
            logger.warning("could not remember the rate limit of %s", operation, exc_info=True)

    def _call(self, operation: str, make_client, call):
        """Run one SP-API call with the limiter, a timeout and the error mapping; follow the
        rate Amazon states in the answer, success or error (a 429 never states one)."""
        self._refuse_endpoints_not_allowed(operation)
        client = make_client()
        try:
            # Logged in (or the cached access token) before the limiter's token: a Login with
            # Amazon round trip between our grant and Amazon's bucket would start Amazon's
            # refill that much after ours, more than our margin at the faster rates.
            if operation in GRANTLESS_OPERATIONS:
                self._call_mapped(operation, client, lambda client: client.grantless_auth)
            else:
                self._call_mapped(operation, client, lambda client: client.auth)
            self._take_token(operation)
            response = self._call_mapped(operation, client, call)
        except AmazonError as error:
            self._rate_learn(operation, getattr(error.__cause__, "headers", None))
            raise
        finally:
            client.close()
        self._rate_learn(operation, getattr(response, "headers", None))
        return response

    def _call_mapped(self, operation: str, client, call):
        try:
            return call(client)
        except AuthorizationError as error:
            if error.status_code and error.status_code >= 500:
                raise AmazonRetryableError(
                    note_english("store.login_unavailable"), status_code=error.status_code
                ) from error
            raise AmazonAuthorizationError(
                note_english(
                    "store.credentials_rejected",
                    code=str(error.error_code),
                    message=str(error.message),
                ),
                status_code=error.status_code,
            ) from error
        except SellingApiException as error:
            code = getattr(error, "code", 999)
            message = getattr(error, "message", "") or str(error.error)
            if code == 429:
                raise AmazonThrottled(
                    note_english("spapi.throttled", operation=operation), status_code=429
                ) from error
            if code >= 500:
                raise AmazonRetryableError(
                    note_english(
                        "spapi.server_error", code=code, operation=operation, message=message
                    ),
                    status_code=code,
                ) from error
            if code in (401, 403):
                # A cached access token Amazon no longer accepts: drop it, the next call logs in.
                is_grantless = operation in GRANTLESS_OPERATIONS
                client._auth.forget(scope=NOTIFICATIONS_SCOPE if is_grantless else "")
                reason = note_english("spapi.access_denied", code=code, message=message)
                if code == 403 and operation in ("searchOrders", "getOrder"):
                    # Amazon's 403 also means the seller did not grant this app a role the
                    # operation needs (amzn/selling-partner-api-models#5319, 403 on searchOrders
                    # whatever includedData says; amzn/selling-partner-api-sdk#764). Either way
                    # the seller must act and authorize again: the store stays paused.
                    reason = note_english("spapi.orders_access_denied", message=message)
                raise AmazonAuthorizationError(reason, status_code=code) from error
            if code == 404:
                raise AmazonNotFound(
                    message or note_english("spapi.not_found"), status_code=404
                ) from error
            if code == 409:
                first = error.error[0] if isinstance(error.error, list) and error.error else {}
                first = first if isinstance(first, dict) else {}
                raise AmazonConflict(
                    note_english("spapi.refused", operation=operation, code=409, message=message),
                    amazon_code=str(first.get("code") or ""),
                    details=str(first.get("details") or ""),
                ) from error
            raise AmazonRequestError(
                note_english("spapi.refused", operation=operation, code=code, message=message),
                status_code=code,
            ) from error
        except (httpx.TransportError, ValueError, LookupError, TypeError, AttributeError) as error:
            # Refused, timed out, not HTTP, a body that is not JSON (the library raises
            # ValueError) or JSON of another shape (its parsing fails on `[1]` or `"x"`): one
            # message whatever answered, so that Test connection cannot tell a closed port from
            # a silent, a non-HTTP or another HTTP service. The cause stays in the chain, and
            # is logged unless it is the network: a failed call of ours looks the same here.
            if not isinstance(error, httpx.TransportError):
                logger.warning("unreadable answer or failed call for %s", operation, exc_info=True)
            raise AmazonRetryableError(
                note_english("spapi.unreachable", operation=operation)
            ) from error

    def search_parameters(
        self,
        *,
        last_updated_after: datetime,
        last_updated_before: datetime,
        max_results: int = 100,
    ) -> dict:
        """The query of a search's first page, as it is sent (JSON, so that a run can store it):
        orders updated in [after, before] in the store's marketplace, items included."""
        return {
            "lastUpdatedAfter": iso8601(last_updated_after),
            "lastUpdatedBefore": iso8601(last_updated_before),
            "marketplaceIds": [self.store.marketplace_id],
            "includedData": list(SEARCH_INCLUDED_DATA),
            "maxResultsPerPage": max_results,
        }

    def search_orders(self, *, parameters: dict, pagination_token: str | None = None) -> SearchPage:
        """One page of a search. Every page sends `parameters` (search_parameters' query of the
        first page) unchanged, the later ones with the previous page's token: Amazon refuses a
        paginationToken whose other parameters differ from the first call's (400 "All parameters
        must match the original request except maxResultsPerPage": amzn/selling-partner-api-sdk
        issue 717, amzn/selling-partner-api-models issue 5144)."""
        query = {
            name: list(value) if isinstance(value, list) else value
            for name, value in parameters.items()
        }
        if pagination_token:
            query["paginationToken"] = pagination_token
        response = self._call(
            "searchOrders", self._orders, lambda client: client.search_orders(**query)
        )
        orders = response.payload.get("orders") if isinstance(response.payload, dict) else None
        if not isinstance(orders, list):
            raise AmazonRetryableError(note_english("spapi.no_orders_list"))
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
            raise AmazonRetryableError(note_english("spapi.no_order"))
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

    def _sellers(self):
        return Sellers(
            marketplace=self.marketplace,
            credentials=self.credentials,
            refresh_token=self.store.refresh_token,
            auth_token_client_class=self.token_client_class,
            timeout=self.timeout,
        )

    def marketplace_participations(self) -> list[dict]:
        """getMarketplaceParticipations: the marketplaces Amazon lists for the seller, each
        `{marketplace: {id, name, ...}, participation: {isParticipating, ...}, storeName}`."""
        response = self._call(
            "getMarketplaceParticipations",
            self._sellers,
            lambda client: client.get_marketplace_participation(),
        )
        payload = response.payload
        # The library keeps `payload or {}`: an empty list arrives as an empty dict.
        if payload == {}:
            return []
        if not isinstance(payload, list):
            raise AmazonRetryableError(note_english("spapi.no_marketplace_list"))
        return [participation for participation in payload if isinstance(participation, dict)]

    def check_connection(self) -> None:
        """Log in, read the seller's marketplace participations (a cheap authorized call) and
        check that the store's marketplace is one of them. Raises an AmazonError saying what
        failed: AmazonRequestError naming the marketplaces the seller does participate in."""
        problem = marketplace_participation_problem(
            self.marketplace_participations(),
            marketplace_id=self.store.marketplace_id,
            marketplace_label=f"{self.store.marketplace_code} ({self.store.marketplace_id})",
        )
        if problem:
            raise AmazonRequestError(problem)

    def feed_document_upload(self, *, content: bytes, content_type: str) -> str:
        """createFeedDocument and the upload of `content` to its URL; returns the document id."""
        response = self._call(
            "createFeedDocument",
            self._feeds,
            lambda client: client.create_feed_document(io.BytesIO(content), content_type),
        )
        document_id = response.payload.get("feedDocumentId")
        if not document_id:
            raise AmazonRetryableError(note_english("spapi.no_document_id"))
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
            raise AmazonRetryableError(note_english("spapi.no_feed_id"))
        return str(feed_id)

    def feed_get(self, feed_id: str) -> dict:
        """getFeed: processingStatus and, once DONE, resultFeedDocumentId."""
        response = self._call("getFeed", self._feeds, lambda client: client.get_feed(feed_id))
        if not isinstance(response.payload, dict) or "processingStatus" not in response.payload:
            raise AmazonRetryableError(note_english("spapi.no_processing_status"))
        return response.payload

    def feeds_unfinished(
        self, *, feed_type: str, created_since: datetime, created_until: datetime | None = None
    ) -> list[dict]:
        """Feeds of this type and marketplace created in [since, until] (until Amazon's now when
        None) that are still IN_QUEUE or IN_PROGRESS (getFeeds, every page). They may be
        anyone's: getFeeds lists the seller's feeds whatever application submitted them, and a
        Feed names neither its application nor its input document (feeds_2021-06-30.json)."""
        feeds: list[dict] = []
        parameters = {
            "feedTypes": [feed_type],
            "marketplaceIds": [self.store.marketplace_id],
            "processingStatuses": ["IN_QUEUE", "IN_PROGRESS"],
            "createdSince": iso8601(created_since),
            "pageSize": 100,
        }
        if created_until is not None:
            parameters["createdUntil"] = iso8601(created_until)
        for _page in range(FEEDS_MAX_PAGES):
            response = self._call(
                "getFeeds",
                self._feeds,
                lambda client, parameters=parameters: client.get_feeds(**parameters),
            )
            payload = response.payload if isinstance(response.payload, dict) else {}
            page = payload.get("feeds")
            if not isinstance(page, list):
                raise AmazonRetryableError(note_english("spapi.no_feeds_list"))
            feeds.extend(feed for feed in page if isinstance(feed, dict) and feed.get("feedId"))
            next_token = payload.get("nextToken")
            if not next_token:
                return feeds
            # The model: "call the getFeeds operation and include this token as the only
            # parameter".
            parameters = {"nextToken": next_token}
        raise AmazonRetryableError(note_english("spapi.too_many_feed_pages"))

    def feed_result_document(self, document_id: str) -> str:
        """The processing report's text: getFeedDocument (through the library, on the
        getFeedDocument bucket), then the download from its presigned URL with the store's
        timeout, the status checked, gunzipped when Amazon says GZIP, decoded as UTF-8.

        Raises AmazonRetryableError when the URL is refused or expired (403), the storage fails
        (5xx, network, timeout) or the bytes cannot be read (a corrupt GZIP is never taken for a
        report); AmazonRequestError when the document is gone or in a compression we do not
        know. The URL grants the download: it is never logged nor put in an error message.
        """
        response = self._call(
            "getFeedDocument",
            self._feeds,
            # The library's get_feed_document downloads too, with no timeout nor status check,
            # and returns the raw bytes when decompression fails: only its request half is used.
            lambda client: client._request(
                fill_query_params(FEED_DOCUMENT_PATH, document_id),
                params={"method": "GET"},
                add_marketplace=False,
            ),
        )
        payload = response.payload if isinstance(response.payload, dict) else {}
        url = payload.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
            raise AmazonRetryableError(note_english("spapi.no_document_url"))
        return feed_document_download(
            url=url,
            compression_algorithm=payload.get("compressionAlgorithm"),
            timeout=self.timeout,
        )

    # -- Notifications API v1 (notifications_v1.json) -----------------------------------------

    def _notifications(self):
        return Notifications(
            marketplace=self.marketplace,
            credentials=self.credentials,
            refresh_token=self.store.refresh_token,
            auth_token_client_class=self.token_client_class,
            timeout=self.timeout,
        )

    def notification_destinations(self) -> list[dict]:
        """getDestinations (grantless): the application's destinations at this endpoint, each
        `{destinationId, name, resource: {sqs: {arn}} or {eventBridge: ...}}`."""
        response = self._call(
            "getDestinations", self._notifications, lambda client: client.get_destinations()
        )
        payload = response.payload
        if payload == {}:  # the library keeps `payload or {}`: an empty list arrives as {}
            return []
        if not isinstance(payload, list):
            raise AmazonRetryableError(note_english("spapi.no_destinations_list"))
        return [
            destination
            for destination in payload
            if isinstance(destination, dict) and isinstance(destination.get("destinationId"), str)
        ]

    def notification_destination_create(self, *, name: str, queue_arn: str) -> str:
        """createDestination (grantless) for an SQS queue; returns the destination id. Raises
        AmazonConflict when the application has one for the queue already (409 Conflict, "A
        destination with arn ... already exists": models#2281)."""
        response = self._call(
            "createDestination",
            self._notifications,
            lambda client: client.create_destination(name=name, arn=queue_arn),
        )
        payload = response.payload if isinstance(response.payload, dict) else {}
        destination_id = payload.get("destinationId")
        if not isinstance(destination_id, str) or not destination_id:
            raise AmazonRetryableError(note_english("spapi.no_destination_id"))
        return destination_id

    def notification_subscription_create(
        self, *, notification_type: str, destination_id: str, payload_version: str
    ) -> dict:
        """createSubscription with the seller's token; returns `{subscriptionId, destinationId,
        payloadVersion}`. Raises AmazonConflict (409 StateConflict) when the seller has a
        subscription of the type for this application already (docs#1564)."""
        response = self._call(
            "createSubscription",
            self._notifications,
            lambda client: client.create_subscription(
                notification_type, destination_id=destination_id, payload_version=payload_version
            ),
        )
        return self._subscription(response.payload, "createSubscription")

    def notification_subscription(self, notification_type: str) -> dict:
        """getSubscription with the seller's token: the seller's subscription of the type for
        this application. Raises AmazonNotFound when there is none."""
        response = self._call(
            "getSubscription",
            self._notifications,
            lambda client: client.get_subscription(notification_type),
        )
        return self._subscription(response.payload, "getSubscription")

    @staticmethod
    def _subscription(payload, operation: str) -> dict:
        payload = payload if isinstance(payload, dict) else {}
        if not all(
            isinstance(payload.get(name), str) and payload[name]
            for name in ("subscriptionId", "destinationId")
        ):
            raise AmazonRetryableError(note_english("spapi.no_subscription", operation=operation))
        return payload

    def notification_subscription_delete(
        self, *, notification_type: str, subscription_id: str
    ) -> None:
        """deleteSubscriptionById, grantless as the model says (python-amazon-sp-api 2.1 sends
        it with the seller's token: its request is built here). Raises AmazonNotFound when
        Amazon knows no such subscription (already deleted)."""
        path = fill_query_params(
            NOTIFICATIONS_SUBSCRIPTION_PATH, notification_type, subscription_id
        )
        self._call(
            "deleteSubscriptionById",
            self._notifications,
            lambda client: client._request_grantless_operation(path, params={"method": "DELETE"}),
        )


def feed_document_download(*, url: str, compression_algorithm: str | None, timeout: float) -> str:
    """Download a feed document from its presigned URL and return its text (see
    AmazonClient.feed_result_document for what it raises).

    The request goes straight to httpx's transport: httpx's client logs every request's URL
    (the signature included) at INFO. The body is read raw, never decoded by HTTP: a storage
    that also sends `Content-Encoding: gzip` must not be gunzipped twice
    (amzn/selling-partner-api-docs#3200).
    """
    request = httpx.Request("GET", url, extensions={"timeout": httpx.Timeout(timeout).as_dict()})
    try:
        with httpx.HTTPTransport() as transport:
            response = transport.handle_request(request)
            try:
                status = response.status_code
                raw = _raw_body(response) if 200 <= status < 300 else b""
            finally:
                response.close()
    # `from None`: httpx's errors carry the request, and so the URL, into any traceback.
    except httpx.TimeoutException:
        raise AmazonRetryableError(note_english("spapi.document_timeout")) from None
    except httpx.TransportError as error:
        raise AmazonRetryableError(
            note_english("spapi.document_not_downloaded", error=type(error).__name__)
        ) from None
    if status == 403:
        raise AmazonRetryableError(note_english("spapi.document_url_refused"), status_code=403)
    if status >= 500 or status in (408, 429):
        raise AmazonRetryableError(
            note_english("spapi.document_storage_answered", status=status), status_code=status
        )
    if not 200 <= status < 300:
        raise AmazonRequestError(
            note_english("spapi.document_storage_answered", status=status), status_code=status
        )
    return _document_text(raw, compression_algorithm)


def _raw_body(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_raw():
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise AmazonRequestError(note_english("spapi.document_too_large"))
        chunks.append(chunk)
    return b"".join(chunks)


def _document_text(raw: bytes, compression_algorithm: str | None) -> str:
    """The document's text. GZIP when Amazon says so (FeedDocument.compressionAlgorithm, whose
    only value in feeds_2021-06-30.json is GZIP); also when it says nothing but the bytes are
    gzip, as Amazon has sent compressed documents with no compressionAlgorithm
    (amzn/selling-partner-api-docs#664)."""
    if compression_algorithm == GZIP or (not compression_algorithm and raw[:2] == GZIP_MAGIC):
        raw = _gunzip(raw)
    elif compression_algorithm:
        raise AmazonRequestError(
            note_english(
                "spapi.document_compression", algorithm=repr(str(compression_algorithm)[:40])
            )
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AmazonRetryableError(note_english("spapi.document_not_utf8")) from None


def _gunzip(raw: bytes) -> str:
    """Every gzip member of `raw`, at most MAX_DOCUMENT_BYTES; raises AmazonRetryableError
    for corrupt or truncated data."""
    parts, size, rest = [], 0, raw
    try:
        while rest:
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            part = decompressor.decompress(rest, MAX_DOCUMENT_BYTES - size + 1)
            size += len(part)
            if size > MAX_DOCUMENT_BYTES or decompressor.unconsumed_tail:
                raise AmazonRequestError(note_english("spapi.document_too_large"))
            if not decompressor.eof:
                raise zlib.error("the GZIP data ends too early")
            parts.append(part)
            rest = decompressor.unused_data
    except zlib.error as error:
        raise AmazonRetryableError(
            note_english("spapi.document_gzip_corrupt", error=str(error))
        ) from None
    return b"".join(parts)
