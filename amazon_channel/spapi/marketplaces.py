"""Amazon marketplaces: ids, regions, currencies and SP-API endpoints (Amazon's published table)."""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from commerce_orders.notes import note

# The values of Store.Environment (the model imports this module, not the other way round).
SANDBOX = "sandbox"
PRODUCTION = "production"

# https://developer-docs.amazon.com/sp-api/docs/sp-api-endpoints
REGION_ENDPOINTS = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}
# Amazon's sandbox answers the same credentials as production, so only the host keeps a test
# away from real orders (https://developer-docs.amazon.com/sp-api/docs/sp-api-sandbox;
# amzn/selling-partner-api-docs, SellingPartnerApiDeveloperGuide.md "Selling Partner API
# sandbox endpoints"; amzn/selling-partner-api-docs#984).
SANDBOX_REGION_ENDPOINTS = {
    "NA": "https://sandbox.sellingpartnerapi-na.amazon.com",
    "EU": "https://sandbox.sellingpartnerapi-eu.amazon.com",
    "FE": "https://sandbox.sellingpartnerapi-fe.amazon.com",
}
TOKEN_ENDPOINT = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL, not a secret
# Login with Amazon's token endpoint of each selling region, where the refresh-token grant (the
# client secret and the refresh token) is posted: Amazon's "Use the refresh token to get new
# tokens" (https://developer.amazon.com/docs/amazon-data-portability/use-refresh-token.html,
# "Select endpoint": api.amazon.com NA, api.amazon.co.uk EU, api.amazon.co.jp FE).
LWA_TOKEN_ENDPOINTS = {
    "NA": TOKEN_ENDPOINT,
    "EU": "https://api.amazon.co.uk/auth/o2/token",
    "FE": "https://api.amazon.co.jp/auth/o2/token",
}
SELLER_CENTRAL_URLS = {
    "NA": "https://sellercentral.amazon.com",
    "EU": "https://sellercentral-europe.amazon.com",
    "FE": "https://sellercentral.amazon.co.jp",
}


@dataclass(frozen=True)
class Marketplace:
    code: str
    marketplace_id: str
    country: str
    region: str
    currency: str


MARKETPLACES = {
    marketplace.code: marketplace
    for marketplace in (
        Marketplace("US", "ATVPDKIKX0DER", _("United States"), "NA", "USD"),
        Marketplace("CA", "A2EUQ1WTGCTBG2", _("Canada"), "NA", "CAD"),
        Marketplace("MX", "A1AM78C64UM0Y8", _("Mexico"), "NA", "MXN"),
        Marketplace("BR", "A2Q3Y263D00KWC", _("Brazil"), "NA", "BRL"),
        Marketplace("GB", "A1F83G8C2ARO7P", _("United Kingdom"), "EU", "GBP"),
        Marketplace("DE", "A1PA6795UKMFR9", _("Germany"), "EU", "EUR"),
        Marketplace("FR", "A13V1IB3VIYZZH", _("France"), "EU", "EUR"),
        Marketplace("IT", "APJ6JRA9NG5V4", _("Italy"), "EU", "EUR"),
        Marketplace("ES", "A1RKKUPIHCS9HS", _("Spain"), "EU", "EUR"),
        Marketplace("NL", "A1805IZSGTT6HS", _("Netherlands"), "EU", "EUR"),
        Marketplace("BE", "AMEN7PMS3EDWL", _("Belgium"), "EU", "EUR"),
        Marketplace("SE", "A2NODRKZP88ZB9", _("Sweden"), "EU", "SEK"),
        Marketplace("PL", "A1C3SOZRARQ6R3", _("Poland"), "EU", "PLN"),
        Marketplace("IE", "A28R8C7NBKEWEA", _("Ireland"), "EU", "EUR"),
        Marketplace("JP", "A1VC38T7YXB528", _("Japan"), "FE", "JPY"),
        Marketplace("AU", "A39IBJ37TRP1C6", _("Australia"), "FE", "AUD"),
        Marketplace("SG", "A19VAU5U5O7RUS", _("Singapore"), "FE", "SGD"),
    )
}
# format_lazy, not an f-string: the country is translated when the choice is shown.
MARKETPLACE_CHOICES = [
    (code, format_lazy("{} ({})", code, m.country)) for code, m in MARKETPLACES.items()
]


def region_endpoint(*, region: str, environment: str) -> str:
    """Amazon's SP-API endpoint of a region: its sandbox host for a sandbox store, else the
    production host. Raises KeyError for an unknown region."""
    if environment == SANDBOX:
        return SANDBOX_REGION_ENDPOINTS[region]
    return REGION_ENDPOINTS[region]


def amazon_endpoint_environment(endpoint: str) -> str | None:
    """SANDBOX for an Amazon sandbox host, PRODUCTION for any other host of amazon.com, None for
    a host that is not Amazon's (our Seller Central sandbox on loopback, a typo)."""
    try:
        host = urlsplit(endpoint.strip()).hostname or ""
    except ValueError:
        return None
    # Written the way a resolver reads it: case, %-escapes and a trailing root dot do not matter.
    host = unquote(host).lower().rstrip(".")
    if host != "amazon.com" and not host.endswith(".amazon.com"):
        return None
    # Only the sandbox.* hosts are fake; any other Amazon host may act on real orders.
    return SANDBOX if host.startswith("sandbox.") else PRODUCTION


def endpoint_environment_problem(
    *, endpoint: str, environment: str, region: str = ""
) -> dict | None:
    """Why a store of `environment` must not use `endpoint` (a note: commerce_orders.notes), or
    None when it may.

    A sandbox store never reaches an Amazon production host (the sandbox's credentials are the
    production ones, so it would ship, cancel and refund real orders); a production store never
    reaches an Amazon sandbox host (its orders would be fake). Hosts that are not Amazon's are
    not judged here.
    """
    host_environment = amazon_endpoint_environment(endpoint)
    if host_environment is None or host_environment == environment:
        return None
    if environment == SANDBOX:
        code, expected = "endpoint.production_host", SANDBOX_REGION_ENDPOINTS.get(region)
    else:
        code, expected = "endpoint.sandbox_host", REGION_ENDPOINTS.get(region)
    if expected:
        return note(f"{code}_use", endpoint=endpoint, expected=expected)
    return note(code, endpoint=endpoint)


# The only hosts credentials may go to outside the Seller Central sandbox: a client secret and a
# refresh token to Login with Amazon, access tokens (x-amz-access-token) to the SP-API.
SP_API_HOSTS = frozenset(
    urlsplit(url).hostname
    for url in (*REGION_ENDPOINTS.values(), *SANDBOX_REGION_ENDPOINTS.values())
)
LWA_TOKEN_HOSTS = frozenset(urlsplit(url).hostname for url in LWA_TOKEN_ENDPOINTS.values())


def custom_endpoints_allowed() -> bool:
    """Endpoints that are not Amazon's (our Seller Central sandbox on loopback) exist only while
    the sandbox is enabled: SELLER_CENTRAL_SANDBOX_ENABLED, off by default once DEBUG is off."""
    return bool(settings.SELLER_CENTRAL_SANDBOX_ENABLED)


def endpoint_at_host(endpoint: str, hosts: frozenset) -> bool:
    """True when `endpoint` is https at one of `hosts` on the https port, with nothing in it that
    could make an HTTP client read another host (userinfo, escapes, spaces, backslashes)."""
    if not isinstance(endpoint, str) or any(char <= " " or char in "\\%" for char in endpoint):
        return False
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").rstrip(".")
    return (
        parts.scheme.lower() == "https"
        and "@" not in parts.netloc
        and host in hosts
        and port in (None, 443)
    )


def sp_api_endpoint_host_problem(*, endpoint: str) -> dict | None:
    """Why access tokens must not be sent to `endpoint` (a note), or None when they may: outside the
    Seller Central sandbox only Amazon's production and sandbox SP-API hosts (https) are
    accepted. The message is the same whatever the endpoint (it reveals nothing about it)."""
    if custom_endpoints_allowed() or endpoint_at_host(endpoint, SP_API_HOSTS):
        return None
    return note(
        "endpoint.sp_api_hosts_only",
        hosts=", ".join(f"https://{host}" for host in sorted(SP_API_HOSTS)),
    )


def token_endpoint_host_problem(*, endpoint: str) -> dict | None:
    """Why the client secret and refresh token must not be posted to `endpoint` (a note), or
    None when they may: outside the Seller Central sandbox only Login with Amazon's token hosts
    (https) are accepted. The message is the same whatever the endpoint."""
    if custom_endpoints_allowed() or endpoint_at_host(endpoint, LWA_TOKEN_HOSTS):
        return None
    return note("endpoint.token_hosts_only", endpoints=", ".join(LWA_TOKEN_ENDPOINTS.values()))
