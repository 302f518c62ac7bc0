"""Where a form sends the user back to."""

from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_back(request, default_url: str):
    """To the page the form was on (a store card or the store dashboard), else `default_url`."""
    target = request.POST.get("next", "")
    # A path of this site only, redirected to as a URL: redirect() would take "None" or
    # "a:b" for a view name to reverse (NoReverseMatch, a 500).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect(default_url)
