"""The dashboard's URLs, by area (as django-oscar's dashboard apps): stores, Amazon orders,
Commerce orders. Every name is in the "dashboard" namespace."""

from dashboard.amazon_orders import urls as amazon_order_urls
from dashboard.commerce_orders import urls as commerce_order_urls
from dashboard.stores import urls as store_urls

app_name = "dashboard"

# A form's page answers GET; what it posts goes to its own POST-only URL (405 on GET).
urlpatterns = [
    *store_urls.urlpatterns,
    *amazon_order_urls.urlpatterns,
    *commerce_order_urls.urlpatterns,
]
