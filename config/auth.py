"""Sign-in throttling (django-axes, for every sign-in made over the web) and the permissions
backend that keeps a user's permissions in the cache."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction


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


# The permissions a user holds, kept in the cache for PERMISSIONS_CACHE_SECONDS under a version
# that any change of users, groups or permissions moves on (config.auth signals below): two
# queries less on every page, and a change takes effect on the next request.
PERMISSIONS_VERSION_KEY = "permissions:version"


def _permissions_key(user) -> str:
    # With the time the user joined: a database created again (tests, a restore) gives its
    # primary keys to other users, while Redis keeps what it held.
    joined = user.date_joined.timestamp() if user.date_joined else ""
    return f"permissions:user:{user.pk}:{joined}"


class CachedPermissionsBackend(ModelBackend):
    """Django's ModelBackend, with a user's own and groups' permissions read from the cache
    (Redis) when PERMISSIONS_CACHE_SECONDS is set; as ModelBackend else. Django keeps them for
    one request only; here a page reads them with one cache round trip instead of two queries.
    """

    def _get_permissions(self, user_obj, obj, from_name):
        seconds = settings.PERMISSIONS_CACHE_SECONDS
        cache_name = f"_{from_name}_perm_cache"
        if (
            not seconds
            or obj is not None
            or not user_obj.is_active
            or user_obj.is_anonymous
            or hasattr(user_obj, cache_name)
        ):
            return super()._get_permissions(user_obj, obj, from_name)
        key = _permissions_key(user_obj)
        found = cache.get_many([PERMISSIONS_VERSION_KEY, key])
        version = found.get(PERMISSIONS_VERSION_KEY)
        if version is None:
            cache.add(PERMISSIONS_VERSION_KEY, 0, timeout=None)
            version = cache.get(PERMISSIONS_VERSION_KEY, 0)
        entry = found.get(key)
        if entry is None or entry[0] != version or entry[1] != user_obj.is_superuser:
            entry = (
                version,
                user_obj.is_superuser,
                super()._get_permissions(user_obj, obj, "user"),
                super()._get_permissions(user_obj, obj, "group"),
            )
            cache.set(key, entry, timeout=seconds)
        _version, _is_superuser, user_permissions, group_permissions = entry
        user_obj._user_perm_cache = user_permissions
        user_obj._group_perm_cache = group_permissions
        return getattr(user_obj, cache_name)


def permissions_changed() -> None:
    """Every user's cached permissions are stale: now, and again once the change is committed
    (a request between the two would have cached what it read before the commit)."""
    if not settings.PERMISSIONS_CACHE_SECONDS:
        return
    _permissions_version_move()
    transaction.on_commit(_permissions_version_move)


def _permissions_version_move() -> None:
    try:
        cache.incr(PERMISSIONS_VERSION_KEY)
    except ValueError:
        cache.add(PERMISSIONS_VERSION_KEY, 1, timeout=None)


def permissions_signals_connect() -> None:
    """Move the permissions' version on when a user's groups or permissions, a group's
    permissions, a group or a permission change (a user's superuser flag is checked on read)."""
    from django.contrib.auth.models import Group, Permission, User
    from django.db.models.signals import m2m_changed, post_delete, post_save

    def on_m2m_changed(sender, action, **kwargs):
        if action in {"post_add", "post_remove", "post_clear"}:
            permissions_changed()

    def on_change(sender, **kwargs):
        permissions_changed()

    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(on_m2m_changed, sender=through, weak=False)
    for model in (Group, Permission):
        post_delete.connect(on_change, sender=model, weak=False)
    post_save.connect(on_change, sender=Permission, weak=False)
