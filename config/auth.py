"""Sign-in throttling: django-axes, for every sign-in made over the web."""

from axes.backends import AxesStandaloneBackend


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuses sign-ins from a locked-out username and address (AXES_* settings).

    Every sign-in over the web (the login page, the admin's) passes its request. Calls made
    without one come from code, not from a visitor (the test client's `login()`, a shell): there
    is no address to throttle, so they go on to the next backend instead of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
