from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SellerCentralSandboxConfig(AppConfig):
    name = "seller_central_sandbox"
    verbose_name = _("Seller Central sandbox")
