"""Every dashboard page and form, fuzzed on PostgreSQL: hostile values never give a 500.

The pages are read from the URL configuration (dashboard/urls.py, Commerce pages included) and
what each page takes from the pages themselves: the fields of its GET forms and the query
parameters of its links (sort links, page cursors, chips) are its parameters; every POST form it
shows (its fields, their values as the page fills them, the buttons' formaction) is a form to
post. So a new page, parameter or form is fuzzed without editing this test; a new URL argument
fails until it gets an object below.

Each parameter and each form field gets hostile values in turn (unknown choices, huge and
negative numbers, NUL and control characters, long strings, malformed and boundary dates,
unicode, invalid UTF-8, formulas, repeated parameters; cursors decoded and rebuilt with hostile
contents), one at a time with the rest as the page gave them; each form is then posted as the
page fills it. Wrong methods and ids the database cannot hold are tried on every URL. Random
choices come from a fixed seed: the run is the same every time.
"""

import base64
import binascii
import contextlib
import itertools
import json
import random
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from amazon_channel.models import AmazonOrderCancellation, OutboxMessage
from amazon_channel.orders.commerce_to_amazon import commerce_shipment_create
from amazon_channel.tests.factories import AmazonOrderFactory, StoreFactory
from commerce_orders.models import OrderAddress
from commerce_orders.services import invoice_create
from commerce_orders.tests.factories import (
    CommerceOrderFactory,
    order_items_by_sku,
    placed_order,
)
from dashboard import urls as dashboard_urls
from dashboard.tests.factories import CancellationFactory, SyncRunFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

SEED = 20261204
# Every parameter and field gets these (the values issue 12 found), and one value of each kind
# of HOSTILE (seeded).
ALWAYS = (str(2**63), "9999-12-31", "0001-01-01", "-1", "1e400", "a\x00b")
ALLOWED_STATUSES = {200, 302, 400, 404, 405}
# Parameters no page shows but views could read: tried on every page.
GENERIC_PARAMETERS = ("page", "sort", "direction", "cursor", "next")
BEYOND_64_BITS = 2**63


@dataclass(frozen=True)
class Raw:
    """A value sent as it is: percent-escapes in a query string, bytes in a form."""

    query: str

    def as_bytes(self) -> bytes:
        return bytes.fromhex(self.query.replace("%", ""))


# Hostile values by kind.
HOSTILE = {
    "empty": ["", " ", "\u00a0"],
    "unknown_choice": ["zzz-unknown", "ASC", "None", "null", "undefined", "__all__"],
    "huge_number": [
        "9" * 40,
        str(BEYOND_64_BITS),
        str(2**64),
        "1e400",
        "1E+999999",
        "Infinity",
        "NaN",
        "sNaN",
        "9" * 5000,
    ],
    "negative": ["-1", "-0", "-9223372036854775809", "-1e400", "-Infinity", "-0.001"],
    "odd_number": [
        "1.5",
        "0x1F",
        "1_000",
        "\u0661\u0662\u0663",
        "\uff11\uff12",
        "+3",
        "0.0000000000000000001",
        "1,5",
    ],
    "nul_and_control": ["a\x00b", "\x00", "\x01\x02\x1b[31m\x7f", "x\r\ny", "\t", "\x0b\x0c"],
    "long_string": ["x" * 10_000, "é" * 3_000, "🙂" * 2_000],
    "malformed_date": [
        "2026-02-30",
        "2026-13-01",
        "0000-00-00",
        "31/12/2026",
        "2026-01-01T25:61:00",
        "-2026-01-01",
        "2026-1-1-1",
        "20260101",
    ],
    "boundary_date": ["0001-01-01", "9999-12-31", "1969-12-31", "1900-01-01", "9998-12-31"],
    "unicode": ["Ωμέγα 漢字 🙂", "\u202eevil", "\ufeffbom", "\ud7ff\ue000", "ﬁ", "Å"],
    "markup_and_formula": [
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        '=HYPERLINK("http://x","y")',
        "%00",
        "../../etc/passwd",
        "{{ 7*7 }}",
    ],
    "url": [
        "http://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "/stores/\r\nSet-Cookie: a=b",
        "/\x00",
        "/" + "a" * 5000,
    ],
    "invalid_utf8": [Raw("%FF%FE%FD"), Raw("%ED%A0%80"), Raw("%C0%AF")],
}


def sample_values(rng: random.Random) -> list:
    """ALWAYS, and one value (seeded) of each kind."""
    return [*ALWAYS, *(rng.choice(values) for values in HOSTILE.values())]


def cursor_variants(value: str) -> list[str]:
    """A page cursor (base64 of JSON) rebuilt with hostile contents, if `value` is one."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return []
    if not isinstance(payload, dict):
        return []
    hostile_values = [
        "a\x00b",
        "x" * 10_000,
        "1e400",
        "NaN",
        "-Infinity",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2026-01-01T00:00:00",
        BEYOND_64_BITS,
        [],
    ]
    hostile_ids = [BEYOND_64_BITS, -BEYOND_64_BITS - 1, -1, 1.5, True, "1", None]
    variants = [{**payload, "v": value} for value in hostile_values]
    variants += [{**payload, "i": order_id} for order_id in hostile_ids]
    variants += [{key: value for key, value in payload.items() if key != name} for name in payload]
    variants.append({**payload, "s": "-" + str(payload.get("s"))})
    variants.append({**payload, "b": "yes"})
    encoded = []
    for variant in variants:
        raw = json.dumps(variant, separators=(",", ":")).encode()
        encoded.append(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    encoded.append(value + "A")
    encoded.append(value[:-3])
    return encoded


# What a page shows: its forms and links.


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    formactions: list[str] = field(default_factory=list)


class PageParser(HTMLParser):
    """The forms (with fields joined by form="id") and the links of an HTML page."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.forms_by_id: dict[str, Form] = {}
        self.links: list[str] = []
        self._open: list[Form] = []
        self._orphans: list[tuple[str, tuple[str, str]]] = []
        self._select: tuple[Form | None, str, list[str], list[str]] | None = None
        self._textarea: tuple[Form | None, str, list[str]] | None = None

    def _form_of(self, attributes: dict) -> Form | None:
        owner = attributes.get("form")
        if owner:
            return self.forms_by_id.get(owner) or owner
        return self._open[-1] if self._open else None

    def _add(self, form, pair):
        if isinstance(form, Form):
            form.fields.append(pair)
        elif isinstance(form, str):
            self._orphans.append((form, pair))

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "form":
            form = Form(
                action=attributes.get("action") or self.page_url,
                method=(attributes.get("method") or "get").lower(),
            )
            self.forms.append(form)
            if attributes.get("id"):
                self.forms_by_id[attributes["id"]] = form
            self._open.append(form)
        elif tag in ("input", "button"):
            form = self._form_of(attributes)
            kind = attributes.get("type", "submit" if tag == "button" else "text").lower()
            if kind in ("submit", "image", "button", "reset"):
                # A button's name is what one click sends (Test connection calls Amazon): only
                # its formaction, another target for the same fields, is taken.
                if isinstance(form, Form) and attributes.get("formaction"):
                    form.formactions.append(attributes["formaction"])
                return
            name = attributes.get("name")
            if not name or kind == "file":
                return
            # A checkbox counts as checked: the merchant ticks it (the grid's order rows).
            self._add(form, (name, attributes.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = (self._form_of(attributes), attributes.get("name", ""), [], [])
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            self._select[2].append(value)
            if "selected" in attributes:
                self._select[3].append(value)
        elif tag == "textarea":
            self._textarea = (self._form_of(attributes), attributes.get("name", ""), [])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2].append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self._open:
            self._open.pop()
        elif tag == "select" and self._select is not None:
            form, name, options, selected = self._select
            if name:
                chosen = selected[0] if selected else next((o for o in options if o), "")
                self._add(form, (name, chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            form, name, parts = self._textarea
            if name:
                self._add(form, (name, "".join(parts).strip() or "A comment"))
            self._textarea = None

    def close(self):
        super().close()
        for owner, pair in self._orphans:
            if owner in self.forms_by_id:
                self.forms_by_id[owner].fields.append(pair)


# The requests and what they gave.


@dataclass
class Fuzzer:
    client: Client
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    requests: int = 0
    url_names: set[str] = field(default_factory=set)

    def _record(self, method, url, status, expected, description, error=None):
        self.requests += 1
        with contextlib.suppress(Resolver404):
            self.url_names.add(resolve(urlsplit(url).path).url_name)
        if status not in expected or error is not None:
            cause = f"{status} {type(error).__name__}: {str(error)[:160]}" if error else status
            self.failures.append(
                (f"{method} {urlsplit(url).path}", str(cause), f"{url[:160]} [{description:.120}]")
            )

    def report(self) -> str:
        """The failures grouped by URL and cause, with a count and one example each."""
        groups: dict[tuple[str, str], list[str]] = {}
        for request, cause, example in self.failures:
            groups.setdefault((request, cause), []).append(example)
        return "\n".join(
            f"{request} -> {cause} x{len(examples)}, e.g. {examples[0]}"
            for (request, cause), examples in groups.items()
        )

    def _finish(self, response):
        """The response's status, its body read in full (a stream can fail half-way), and the
        exception a 500 came from."""
        error = None
        try:
            if response.streaming:
                b"".join(response.streaming_content)
        except Exception as streaming_error:  # noqa: BLE001 (any failure is the finding)
            error = streaming_error
        exc_info = getattr(response, "exc_info", None)
        if error is None and response.status_code == 500 and exc_info:
            error = exc_info[1]
        return response.status_code, error

    def get(self, url: str, pairs: list, *, expected=ALLOWED_STATUSES, description=""):
        query = "&".join(
            f"{quote(name, safe='')}="
            + (value.query if isinstance(value, Raw) else quote(str(value), safe=""))
            for name, value in pairs
        )
        full = f"{url}?{query}" if query else url
        try:
            status, error = self._finish(self.client.get(full))
        except Exception as error:  # noqa: BLE001
            status, error = "exception", error
        self._record("GET", full, status, expected, description or query, error)
        return status

    def post(self, url: str, pairs: list, *, expected=ALLOWED_STATUSES, description=""):
        data: dict[str, list] = {}
        for name, value in pairs:
            data.setdefault(name, []).append(
                value.as_bytes() if isinstance(value, Raw) else str(value)
            )
        try:
            status, error = self._finish(self.client.post(url, data))
        except Exception as error:  # noqa: BLE001
            status, error = "exception", error
        self._record("POST", url, status, expected, description, error)
        return status


def mutations(pairs: list, name: str, values: list) -> list[tuple[list, str]]:
    """`pairs` with `name` given each value in turn, then left out, then given twice."""
    others = [(other, value) for other, value in pairs if other != name]
    original = next((value for other, value in pairs if other == name), "")
    variants = [([*others, (name, value)], f"{name}={value!r:.80}") for value in values]
    variants.append((others, f"{name} left out"))
    variants.append(([*others, (name, "zzz"), (name, original)], f"{name} repeated"))
    return variants


# The world the pages show: objects of every kind a URL names, with forms open on them.


@pytest.fixture
def world(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    store = StoreFactory(is_import_enabled=True)
    now = timezone.now()
    # More orders than a page holds: Next links carry real cursors.
    for index in range(30):
        AmazonOrderFactory(
            store=store,
            purchase_date=now - timedelta(hours=index),
            order_total=None if index % 7 == 0 else Decimal(index) + Decimal("0.99"),
            status=["Unshipped", "Shipped", "Pending", "Canceled"][index % 4],
        )
    for index in range(25):
        order = CommerceOrderFactory(grand_total=Decimal(index) + Decimal("0.50"))
        OrderAddress.objects.create(
            order=order, address_type=OrderAddress.AddressType.BILLING, name=f"Bill {index}"
        )
    SyncRunFactory.create_batch(30, store=store)

    # An Amazon order imported as a Commerce order, invoiced, one shipment Amazon refused.
    amazon_order = AmazonOrderFactory(store=store, purchase_date=now - timedelta(days=2))
    commerce_order = placed_order(
        external_channel="amazon",
        external_order_id=amazon_order.amazon_order_id,
        payment_method="Amazon Channel Payment",
    )
    amazon_order.commerce_order = commerce_order
    amazon_order.save(update_fields=["commerce_order"])
    invoice_create(actor=None, order=commerce_order)
    shipment = commerce_shipment_create(
        actor=None,
        order=commerce_order,
        quantities={order_items_by_sku(commerce_order)["MUG"].pk: 1},
        carrier_code="DHL",
        tracking_number="TRACK-DHL",
    )
    message = OutboxMessage.objects.get(key=f"ship:{shipment.pk}")
    OutboxMessage.objects.filter(pk=message.pk).update(state="failed", result="Refused")
    # A store's own order (Hold, Cancel, Send Email are open) and an Amazon order whose
    # cancellation Amazon rejected (its review form).
    store_order = placed_order(external_channel="", external_order_id="")
    rejected = CancellationFactory(
        order=AmazonOrderFactory(store=store, status="Canceled"),
        store=store,
        state=AmazonOrderCancellation.State.REJECTED,
    )
    user = get_user_model().objects.create_user("fuzzer", password="fuzz-fuzz-fuzz")
    user.user_permissions.set(Permission.objects.all())
    return {
        "store_id": [store.pk],
        "amazon_order_id": [amazon_order.pk, rejected.order_id],
        "commerce_order_id": [commerce_order.pk, store_order.pk],
        "message_id": [message.pk],
        "shipment_id": [shipment.pk],
        "user": user,
    }


def url_arguments(pattern, world) -> list[dict]:
    """Every combination of the world's objects for the pattern's arguments."""
    names = list(pattern.pattern.converters)
    choices = []
    for name in names:
        key = name
        if name == "order_id":
            route = str(pattern.pattern)
            key = "commerce_order_id" if route.startswith("commerce/") else "amazon_order_id"
        assert key in world, f"give the fuzz an object for the URL argument {name!r}"
        choices.append(world[key])
    return [
        dict(zip(names, combination, strict=True)) for combination in itertools.product(*choices)
    ]


# The fuzz in three parts, each on its own copy of the world (so pytest-xdist runs them side by
# side): the GET pages with their parameters, the POST forms, and the ids nothing can have. Each
# part first requests every URL as linked, so each covers every URL name.
PHASES = {"pages": 900, "forms": 1_300, "ids": 100}  # each part's minimum number of requests


@pytest.mark.parametrize("phase", PHASES)
def test_no_page_or_form_answers_a_hostile_value_with_a_500(world, phase):
    rng = random.Random(f"{SEED}-{phase}")
    client = Client(raise_request_exception=False)
    client.force_login(world["user"])
    fuzzer = Fuzzer(client)
    started = time.monotonic()

    pages: list[tuple[str, str]] = []  # (url name, url) answering GET
    post_urls: dict[str, str] = {}  # url -> url name, answering POST only
    for pattern in dashboard_urls.urlpatterns:
        for arguments in url_arguments(pattern, world):
            url = reverse(f"dashboard:{pattern.name}", kwargs=arguments)
            status = fuzzer.get(url, [], description="as linked")
            if status == 405:
                post_urls[url] = pattern.name
            else:
                pages.append((pattern.name, url))

    # GET pages: each parameter the page shows, and the generic ones, with hostile values.
    forms: dict[tuple, Form] = {}
    for _name, url in pages:
        parameters, page_links = page_parameters(client, url, forms)
        if phase != "pages":
            continue
        baseline = list(parameters.items())
        for name in parameters:
            for pairs, description in mutations(baseline, name, sample_values(rng)):
                fuzzer.get(url, pairs, expected={200, 302}, description=description)
        # A page cursor, rebuilt with hostile contents, beside the parameters of its own link
        # (the sort it was made for).
        for link in page_links:
            pairs = parse_qsl(link, keep_blank_values=True)
            for name, value in pairs:
                variants = cursor_variants(value)
                for mutated, description in mutations(pairs, name, variants) if variants else []:
                    fuzzer.get(url, mutated, expected={200, 302}, description=description)
        for name in GENERIC_PARAMETERS:
            if name not in parameters:
                for value in rng.sample(sample_values(rng), 3):
                    fuzzer.get(url, [(name, value)], expected={200, 302})
        fuzzer.get(
            url,
            [(name, rng.choice(sample_values(rng))) for name in parameters],
            expected={200, 302},
            description="every parameter hostile",
        )
        fuzzer.post(url, [], expected={405}, description="POST to a page")

    # POST forms: each field with hostile values, the rest as the page filled them; then the
    # form as the page filled it (last: it may close the form, a shipment ships what is left).
    posted: set[str] = set()
    for key in sorted(forms) if phase == "forms" else ():
        form = forms[key]
        action = urlsplit(form.action).path
        posted.add(resolve(action).url_name)
        for name in dict(form.fields):
            for pairs, description in mutations(form.fields, name, sample_values(rng)):
                fuzzer.post(action, pairs, description=description)
        fuzzer.post(action, list(form.fields), description="as the page filled it")
    # A POST URL no page showed a form for still gets hostile data.
    for url, name in post_urls.items() if phase == "forms" else ():
        if name not in posted:
            posted.add(name)
            for field_name in ("next", "order_ids", "action"):
                for value in sample_values(rng):
                    fuzzer.post(
                        url, [(field_name, value)], description=f"{field_name}={value!r:.80}"
                    )

    # Ids the database cannot hold, and ids of nothing: 404 on every URL.
    post_names = set(post_urls.values())
    for pattern in dashboard_urls.urlpatterns if phase == "ids" else ():
        arguments = url_arguments(pattern, world)[0]
        for name in pattern.pattern.converters:
            for missing in (BEYOND_64_BITS, 0):
                url = reverse(f"dashboard:{pattern.name}", kwargs={**arguments, name: missing})
                send = fuzzer.post if pattern.name in post_names else fuzzer.get
                send(url, [], expected={404}, description=f"{name}={missing}")

    elapsed = time.monotonic() - started
    every_name = {pattern.name for pattern in dashboard_urls.urlpatterns}
    assert not fuzzer.failures, (
        f"{len(fuzzer.failures)} of {fuzzer.requests} requests failed:\n" + fuzzer.report()
    )
    assert every_name <= fuzzer.url_names, every_name - fuzzer.url_names
    assert fuzzer.requests >= PHASES[phase], fuzzer.requests
    print(f"{phase}: {fuzzer.requests} requests in {elapsed:.1f} s, none failed")


LINKS_FOLLOWED = 12


def page_parameters(client, url: str, forms: dict) -> tuple[dict[str, str], list[str]]:
    """What a page takes: the fields of its GET forms and the query parameters of its links,
    with their values as the page gives them; and its links' queries, one level deep (so that
    each sort's Next link, and its cursor, is found). Adds the page's POST forms to `forms`, one
    per URL name and field names (quantity_<item id> counts as one name)."""
    parameters: dict[str, str] = {}
    queries: list[str] = []
    to_read = [""]
    while to_read and len(queries) <= LINKS_FOLLOWED:
        query = to_read.pop(0)
        response = client.get(f"{url}?{query}" if query else url)
        parser = PageParser(url)
        parser.feed(response.content.decode())
        parser.close()
        for form in parser.forms:
            if form.method == "get" and urlsplit(form.action).path == url:
                parameters.update((name, value) for name, value in form.fields)
            elif form.method == "post" and is_dashboard_url(form.action):
                for action in [form.action, *form.formactions]:
                    names = sorted({re.sub(r"\d+", "#", name) for name, _value in form.fields})
                    key = (resolve(urlsplit(action).path).url_name, tuple(names))
                    forms.setdefault(key, Form(action=action, method="post", fields=form.fields))
        for link in parser.links:
            parts = urlsplit(link)
            if parts.path in ("", url) and parts.query and parts.query not in queries:
                queries.append(parts.query)
                parameters.update(parse_qsl(parts.query, keep_blank_values=True))
                if query == "":
                    to_read.append(parts.query)
    return parameters, queries


def is_dashboard_url(url: str) -> bool:
    """Forms of the dashboard only: not Log out, nor the language switcher."""
    try:
        return resolve(urlsplit(url).path).namespace == "dashboard"
    except Resolver404:
        return False


def test_the_fuzz_counts_a_500_as_a_failure(world):
    """The fuzzer's own check: a view that fails is reported, not passed over."""
    client = Client(raise_request_exception=False)
    client.force_login(world["user"])
    fuzzer = Fuzzer(client)

    fuzzer.get(reverse("dashboard:store_list"), [], description="a page that works")
    fuzzer.get("/no-such-page/", [], expected={200}, description="a 404 where 200 is expected")

    assert fuzzer.requests == 2
    assert len(fuzzer.failures) == 1
    assert fuzzer.report().startswith("GET /no-such-page/ -> 404 x1")


def test_the_page_parser_reads_forms_fields_joined_by_id_and_formactions():
    parser = PageParser("/page/")
    parser.feed(
        '<form method="post" id="f" action="/act/"><input name="a" value="1">'
        '<select name="s"><option value="">-</option><option value="x" selected>X</option>'
        '</select><textarea name="t">hi</textarea><button name="b" formaction="/other/">'
        '</button></form><input type="checkbox" name="ids" value="7" form="f">'
        '<a href="?sort=x&amp;cursor=abc">next</a>'
    )
    parser.close()

    [form] = parser.forms
    assert form.action == "/act/"
    assert form.fields == [("a", "1"), ("s", "x"), ("t", "hi"), ("ids", "7")]
    assert form.formactions == ["/other/"]
    assert parser.links == ["?sort=x&cursor=abc"]
