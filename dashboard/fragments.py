"""Jinja2 for what the hot pages spend their time on (issue 15): the content of All Orders,
Amazon Order Details and the store dashboard, the top bar, order rows, store cards, form
fields, sort headers, chips and notices, several times faster than Django's engine, which
spent more time on its template nodes than on the data. The widgets of the hot pages' forms
are Django's own Jinja2 widget templates (FormRenderer).

A fragment is written to render exactly what the Django template did: the same filters
(Django's own `date` and `linebreaksbr`, the dashboard's `money`, `notes_text`,
`choice_label`), Django's escaping (`&#x27;`, not markupsafe's `&#39;`), Django's translations
through `_()`. Fragments live in templates/jinja2/ and are `.html`, so that `makemessages`
reads their `{{ _("...") }}` strings as it reads Django templates' (a plural is made in
Python, where makemessages reads ngettext). Rendered from a Django template by a tag of
dashboard_extras (`{% page_fragment %}`, `{% store_fragment %}`, `{% order_rows %}`): the
page's Django template stays its frame. dashboard/tests/reference_templates/ keeps the Django
templates they replaced; the tests require the same bytes.
"""

import html
import threading
from collections import OrderedDict
from pathlib import Path

import jinja2
from django import forms
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.forms.renderers import Jinja2 as Jinja2FormRenderer
from django.template import defaultfilters
from django.template.backends.jinja2 import Jinja2 as Jinja2Backend
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext, ngettext
from markupsafe import Markup

TEMPLATE_DIR = settings.BASE_DIR / "templates" / "jinja2"


def _django_escaped(value) -> Markup:
    """What Django's engine writes for {{ value }}: localized, escaped by Django."""
    if value.__class__ is str:
        # Django's escape() is html.escape(); most values are plain text.
        return Markup(html.escape(value))  # noqa: S704 - escaped
    if value.__class__ is int and not settings.USE_THOUSAND_SEPARATOR:
        # What localize() gives an int without grouping (numberformat.format), without its
        # three lookups of the active language and formats.
        return Markup(str(value))  # noqa: S704 - digits
    if value.__class__ is Markup:
        return value
    # Escaped by Django's conditional_escape just before.
    return Markup(conditional_escape(localize(template_localtime(value))))  # noqa: S704


def _translated(message: str) -> Markup:
    """{% translate "..." %}: the message in the active language. Django marks a template's
    string constants safe, and so their translations: they are written as they are."""
    return Markup(gettext(message))  # noqa: S704 - our own messages and translations


def _translated_plural(singular: str, plural: str, count: int) -> Markup:
    return Markup(ngettext(singular, plural, count))  # noqa: S704 - as _translated


def _render_values(values: dict) -> dict:
    """The values of a {% blocktranslate %}, as Django writes them: localized and escaped."""
    return {
        name: conditional_escape(localize(template_localtime(value)))
        for name, value in values.items()
    }


def _with_values(message: Markup, **values) -> Markup:
    """{% blocktranslate %}: `_("... %(name)s ...")|with_values(name=...)`, the translation
    as it is, its values escaped (makemessages reads the `_("...")` as in a Django template)."""
    return Markup(str(message) % _render_values(values))  # noqa: S704 - values escaped


def date(value, format_name=None) -> str:
    """Django's `date` filter, in the current time zone."""
    return defaultfilters.date(template_localtime(value), format_name)


def _linebreaksbr(value):
    return defaultfilters.linebreaksbr(value, autoescape=True)


def environment(*, filters: dict, globals: dict) -> jinja2.Environment:
    """An environment for the fragments, with Django's filters and escaping, and the
    dashboard's own filters and globals (dashboard_extras passes its own)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        auto_reload=settings.DEBUG,
        finalize=_django_escaped,
        undefined=jinja2.Undefined,
        # Django writes a template's last newline; Jinja2 would drop it.
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(_translated, _translated_plural, newstyle=False)
    env.filters.update(
        {"date": date, "linebreaksbr": _linebreaksbr, "with_values": _with_values, **filters}
    )
    env.globals.update(globals)
    return env


# The translations the fragments wrote, by language: a catalog does not change while the
# process runs (Django clears its own on the settings that change catalogs; so do we).
_translations: dict[str, dict[str, Markup]] = {}


# Fragments rendered for a given input (fragment_render_cached), by key, in this process: a
# deploy starts new processes, so HTML of older templates is never served.
_rendered: OrderedDict[str, str] = OrderedDict()
_rendered_lock = threading.Lock()
RENDERED_KEPT = 32
# What a cached fragment holds in place of the CSRF input: "<" of any value is escaped, so
# only a template can write it.
CSRF_PLACEHOLDER = Markup("<!--csrf_input-->")


@receiver(setting_changed)
def _translations_clear(*, setting, **kwargs):
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}:
        _translations.clear()
    # Any setting may change how a value is written (formats, time zone, languages...).
    with _rendered_lock:
        _rendered.clear()


def fragment_render(env: jinja2.Environment, template_name: str, context: dict) -> Markup:
    """A fragment of templates/jinja2/ rendered with `context`, as safe HTML."""
    # A page asks for the same messages on every request (a page of cards, two hundred
    # times each); the language cannot change during one render.
    translations = _translations.setdefault(get_language() or "", {})

    def translated_once(message: str) -> Markup:
        try:
            return translations[message]
        except KeyError:
            translation = translations[message] = _translated(message)
            return translation

    # `_` itself, not jinja2.ext.i18n's alias, which looks "gettext" up in the context on
    # every call (a page of cards translates two hundred times); "gettext" for the extension.
    # The output of an autoescaping environment.
    return Markup(  # noqa: S704
        env.get_template(template_name).render(
            {**context, "gettext": translated_once, "_": translated_once}
        )
    )


def fragment_render_cached(
    env: jinja2.Environment, template_name: str, context: dict, *, key: str
) -> Markup:
    """fragment_render, kept in this process for the same `key` and language: `key` must hold
    everything the fragment shows but the CSRF input, which each request gets its own of
    (the last RENDERED_KEPT fragments are kept)."""
    cache_key = f"{template_name}:{get_language()}:{key}"
    with _rendered_lock:  # a threaded server's requests share it
        rendered = _rendered.get(cache_key)
        if rendered is not None:
            _rendered.move_to_end(cache_key)
    if rendered is None:
        rendered = str(
            fragment_render(env, template_name, {**context, "csrf_input": CSRF_PLACEHOLDER})
        )
        with _rendered_lock:
            _rendered[cache_key] = rendered
            while len(_rendered) > RENDERED_KEPT:
                _rendered.popitem(last=False)
    return Markup(rendered.replace(CSRF_PLACEHOLDER, str(context["csrf_input"])))  # noqa: S704


def _widget_value_escaped(value) -> Markup:
    """What Django's widget templates write for {{ value|stringformat:'s' }}: the value as
    str(), escaped by Django (`&#x27;`), never localized."""
    return Markup(conditional_escape(value))  # noqa: S704 - escaped


def form_environment(**options) -> jinja2.Environment:
    """The Jinja2 environment of FormRenderer (the backend passes its loader and options)."""
    options.pop("autoescape", None)
    # A missing value writes nothing, as in Django's widget templates, DEBUG or not (the
    # backend's default under DEBUG, DebugUndefined, would write its name).
    options["undefined"] = jinja2.Undefined
    return jinja2.Environment(autoescape=True, finalize=_widget_value_escaped, **options)


class FormRenderer(Jinja2FormRenderer):
    """Form widgets rendered by Jinja2 from Django's own Jinja2 widget templates
    (django/forms/jinja2/), several times faster than Django's engine, with Django's escaping:
    the same HTML as the default renderer writes. For the hot pages' forms (All Orders'
    filters, the shipping address), whose seven or eight widgets cost more than their page's
    other markup."""

    @cached_property
    def engine(self):
        return Jinja2Backend(
            {
                "APP_DIRS": False,
                # Ours first: the option template that keeps Django's newline.
                "DIRS": [TEMPLATE_DIR, Path(forms.__file__).parent / "jinja2"],
                "NAME": "djangoforms",
                "OPTIONS": {"environment": "dashboard.fragments.form_environment"},
            }
        )
