"""Reference data of the buyer side: marketplaces, products, people, addresses."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    name: str
    country_code: str
    currency_code: str
    # Prices are written in USD in the catalog and converted with this factor.
    price_factor: Decimal
    decimal_places: int
    v0_sales_channel: str


MARKETPLACES = {
    marketplace.marketplace_id: marketplace
    for marketplace in [
        Marketplace("ATVPDKIKX0DER", "Amazon.com", "US", "USD", Decimal("1"), 2, "Amazon.com"),
        Marketplace("A2EUQ1WTGCTBG2", "Amazon.ca", "CA", "CAD", Decimal("1.35"), 2, "Amazon.ca"),
        Marketplace(
            "A1F83G8C2ARO7P", "Amazon.co.uk", "GB", "GBP", Decimal("0.8"), 2, "Amazon.co.uk"
        ),
        Marketplace("A1PA6795UKMFR9", "Amazon.de", "DE", "EUR", Decimal("0.92"), 2, "Amazon.de"),
        Marketplace("A13V1IB3VIYZZH", "Amazon.fr", "FR", "EUR", Decimal("0.92"), 2, "Amazon.fr"),
        Marketplace("APJ6JRA9NG5V4", "Amazon.it", "IT", "EUR", Decimal("0.92"), 2, "Amazon.it"),
        Marketplace("A1805IZSGTT6HS", "Amazon.nl", "NL", "EUR", Decimal("0.92"), 2, "Amazon.nl"),
        Marketplace(
            "A1VC38T7YXB528", "Amazon.co.jp", "JP", "JPY", Decimal("150"), 0, "Amazon.co.jp"
        ),
        # Amazon's own sandbox cases (the models' x-amzn-api-sandbox) place orders here too.
        Marketplace(
            "A2Q3Y263D00KWC", "Amazon.com.br", "BR", "BRL", Decimal("5"), 2, "Amazon.com.br"
        ),
        Marketplace(
            "A33AVAJ2PDY3EV", "Amazon.com.tr", "TR", "TRY", Decimal("32"), 2, "Amazon.com.tr"
        ),
    ]
}
DEFAULT_MARKETPLACE_ID = "ATVPDKIKX0DER"
# Default language of each marketplace, by country, written as Amazon's getMarketplaceParticipations
# example writes it (sellers.json: "defaultLanguageCode": "en_US").
MARKETPLACE_LANGUAGES = {
    "US": "en_US",
    "CA": "en_CA",
    "MX": "es_MX",
    "BR": "pt_BR",
    "GB": "en_GB",
    "DE": "de_DE",
    "FR": "fr_FR",
    "IT": "it_IT",
    "ES": "es_ES",
    "NL": "nl_NL",
    "TR": "tr_TR",
    "JP": "ja_JP",
}


@dataclass(frozen=True)
class Product:
    asin: str
    seller_sku: str
    title: str
    price_usd: Decimal


PRODUCTS = [
    Product(
        "B08N5WRWNW", "ECHO-DOT-4-CHARCOAL", "Smart speaker, 4th generation, charcoal", "49.99"
    ),
    Product("B07XJ8C8F5", "FIRE-TV-4K-2021", "Streaming stick 4K with voice remote", "39.99"),
    Product("B0BSHF7WHW", "KETTLE-STEEL-17L", "Electric kettle, brushed steel, 1.7 l", "34.50"),
    Product("B09G9FPHY6", "MUG-SET-4-BLUE", "Stoneware mug set of 4, blue glaze", "24.00"),
    Product("B0C1H26C46", "YOGA-MAT-6MM-GRN", "Yoga mat 6 mm, non-slip, green", "29.95"),
    Product("B07PGL2ZSL", "BACKPACK-25L-BLK", "Daypack 25 l, water resistant, black", "59.00"),
    Product("B0B7RSV894", "HEADPHONES-NC-700", "Noise-cancelling headphones, over-ear", "179.00"),
    Product("B08KTZ8249", "CABLE-USBC-2M-2PK", "USB-C cable 2 m, braided, pack of 2", "12.99"),
    Product("B09B8V1LZ3", "DESK-LAMP-LED-WHT", "LED desk lamp with dimmer, white", "42.00"),
    Product("B0D5B8XQ1K", "COFFEE-BEANS-1KG", "Whole coffee beans, medium roast, 1 kg", "21.40"),
    Product("B07ZPKN6YR", "BOARD-GAME-STRAT", "Strategy board game for 2-5 players", "44.99"),
    Product("B0CHX1W1XY", "PHONE-CASE-CLEAR", "Clear phone case with raised edges", "15.99"),
]
PRODUCTS = [
    Product(product.asin, product.seller_sku, product.title, Decimal(product.price_usd))
    for product in PRODUCTS
]

FIRST_NAMES = [
    "Alex", "Maria", "John", "Sofia", "Liam", "Emma", "Noah", "Olivia", "Lukas", "Chloé",
    "Giulia", "Daan", "Yuki", "Haruto", "Fatima", "Mateo", "Ines", "Oskar", "Amelia", "Ravi",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Garcia", "Müller", "Martin", "Rossi", "de Vries", "Tanaka", "Sato", "Brown",
    "Dubois", "Schmidt", "Bianchi", "Jansen", "Nguyen", "Khan", "Silva", "Moreau", "Wilson",
]  # fmt: skip
COMPANIES = [
    "Northwind Traders", "Contoso Ltd", "Fabrikam Inc", "Blue Yonder GmbH", "Tailspin Toys",
    "Litware SARL", "Adatum Srl", "Proseware BV",
]  # fmt: skip
CITIES = {
    "US": [("Seattle", "WA", "98101"), ("Austin", "TX", "73301"), ("Boston", "MA", "02108")],
    "CA": [("Toronto", "ON", "M5H 2N2"), ("Vancouver", "BC", "V6B 1A1")],
    "GB": [("London", "London", "SW1A 1AA"), ("Manchester", "Greater Manchester", "M1 1AE")],
    "DE": [("Berlin", "Berlin", "10115"), ("München", "Bayern", "80331")],
    "FR": [("Paris", "Île-de-France", "75001"), ("Lyon", "Auvergne-Rhône-Alpes", "69001")],
    "IT": [("Milano", "MI", "20121"), ("Roma", "RM", "00118")],
    "NL": [("Amsterdam", "Noord-Holland", "1012 JS"), ("Utrecht", "Utrecht", "3511 AA")],
    "JP": [("Tokyo", "Tokyo", "150-0002"), ("Osaka", "Osaka", "530-0001")],
    "BR": [("São Paulo", "SP", "01310-100"), ("Rio de Janeiro", "RJ", "20040-002")],
    "TR": [("Istanbul", "Istanbul", "34430"), ("Ankara", "Ankara", "06420")],
}
STREETS = ["Main Street", "Station Road", "Market Square", "Harbour Lane", "Park Avenue"]
GIFT_MESSAGES = [
    "Happy birthday! Enjoy.",
    "Congratulations on the new home.",
    "Merry Christmas from all of us.",
    "Thank you for everything.",
]
BUYER_CANCEL_REASONS = [
    "Changed mind about purchase",
    "Found a better price",
    "Ordered by mistake",
    "Delivery date too late",
]
SERVICE_LEVELS = ["STANDARD", "EXPEDITED", "PRIORITY"]
# The ten reasons the order acknowledgement feed accepts (SP-API.md).
CANCEL_REASONS = [
    "NoInventory",
    "ShippingAddressUndeliverable",
    "CustomerExchange",
    "BuyerCanceled",
    "GeneralAdjustment",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "CustomerReturn",
    "MerchandiseNotReceived",
]
