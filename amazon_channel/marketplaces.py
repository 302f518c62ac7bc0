"""Amazon marketplaces: ids, regions, currencies and SP-API endpoints (Amazon's published table)."""

from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

REGION_ENDPOINTS = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}
TOKEN_ENDPOINT = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL, not a secret
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

    @property
    def endpoint(self) -> str:
        return REGION_ENDPOINTS[self.region]


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
