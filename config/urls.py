from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET
from django.views.i18n import set_language

from dashboard.health import health


@login_not_required
@require_GET
def favicon(request):
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (Django admin's).
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("healthz", health, name="health"),
    path("favicon.ico", favicon, name="favicon"),
    # Merchants pick their language on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("dashboard.urls")),
]

if settings.SELLER_CENTRAL_SANDBOX_ENABLED:
    urlpatterns.insert(0, path("sandbox/", include("seller_central_sandbox.urls")))
