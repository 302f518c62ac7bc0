"""Amazon's carrier codes, and what a shipment confirmation needs before Amazon will take it.

Evidence:
- ordersV0.json `PackageDetail.required` lists `carrierCode` and `trackingNumber`; the model's
  `carrierCode` is "required for all marketplaces" and `carrierName` is "Required when
  `carrierCode` is "Other"". amzn/selling-partner-api-models#4329 asks why `trackingNumber` is
  required even in the EU stores: it is, for confirmShipment.
- amzn/selling-partner-api-docs#772: the CarrierCode "must match the options listed in Seller
  Central exactly"; a carrier that is not listed is sent as "Other" with its name in CarrierName.
- The list itself is the CarrierCode enumeration of Amazon's order fulfillment XSD
  (amzn-base.xsd, element CarrierCode), in its order, "Other" last.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

OTHER_CARRIER = "Other"

AMAZON_CARRIER_CODES = (
    "USPS",
    "UPS",
    "UPSMI",
    "FedEx",
    "DHL",
    "Fastway",
    "GLS",
    "GO!",
    "Hermes Logistik Gruppe",
    "Royal Mail",
    "Parcelforce",
    "City Link",
    "TNT",
    "Target",
    "SagawaExpress",
    "NipponExpress",
    "YamatoTransport",
    "DHL Global Mail",
    "UPS Mail Innovations",
    "FedEx SmartPost",
    "OSM",
    "OnTrac",
    "Streamlite",
    "Newgistics",
    "Canada Post",
    "Blue Package",
    "Chronopost",
    "Deutsche Post",
    "DPD",
    "La Poste",
    "Parcelnet",
    "Poste Italiane",
    "SDA",
    "Smartmail",
    "FEDEX_JP",
    "JP_EXPRESS",
    "NITTSU",
    "SAGAWA",
    "YAMATO",
    "BlueDart",
    "AFL/Fedex",
    "Aramex",
    "India Post",
    "Professional",
    "DTDC",
    "Overnite Express",
    "First Flight",
    "Delhivery",
    "Lasership",
    OTHER_CARRIER,
)

AMAZON_CARRIER_CHOICES = [
    (code, gettext_lazy("Other (enter the carrier's name)") if code == OTHER_CARRIER else code)
    for code in AMAZON_CARRIER_CODES
]


def amazon_shipment_problem(*, carrier_code: str, carrier_name: str, tracking_number: str) -> str:
    """What Amazon would refuse in a shipment confirmation of these values, in the merchant's
    words; "" when Amazon has what it requires (a tracking number, and a carrier of its list,
    or Other with the carrier's name)."""
    problems = []
    if not (tracking_number or "").strip():
        problems.append(_("Amazon requires a tracking number."))
    if carrier_code not in AMAZON_CARRIER_CODES:
        problems.append(
            _("Amazon requires a carrier from its list (%(carrier)s is not on it).")
            % {"carrier": carrier_code or "—"}
        )
    elif carrier_code == OTHER_CARRIER and not (carrier_name or "").strip():
        problems.append(_("Amazon requires the carrier's name when the carrier is Other."))
    return " ".join(problems)
