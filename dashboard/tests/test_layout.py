"""The dashboard's shape: areas as django-oscar's dashboard apps (stores, Amazon orders,
Commerce orders), small views modules, one list-page machinery, Order Settings named once."""

from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from amazon_channel.models import Store
from amazon_channel.selectors import AmazonOrderFilterSet, OrderFilters
from amazon_channel.stores.services import ORDER_SETTINGS_FIELDS
from amazon_channel.tests.factories import StoreFactory
from commerce_orders.list_filters import ListFilterSet
from commerce_orders.selectors import OrderGridFilterSet
from dashboard.amazon_orders.forms import OrderFilterForm
from dashboard.commerce_orders.forms import CommerceOrderGridForm
from dashboard.lists import ListFilterForm
from dashboard.stores.forms import OrderSettingsForm
from dashboard.tests.factories import COMMERCE_PERMISSIONS, user_with_app_permissions

DASHBOARD = Path(__file__).resolve().parent.parent
TEMPLATES = DASHBOARD.parent / "templates"
LARGEST_VIEWS_MODULE = 400


def views_modules() -> list[Path]:
    """Every module named views*.py, *_views.py or inside a views package, tests aside."""
    return [
        path
        for path in DASHBOARD.rglob("*.py")
        if "tests" not in path.parts
        and ("views" in path.stem or "views" in path.relative_to(DASHBOARD).parts[:-1])
    ]


def test_no_views_module_is_over_400_lines():
    sizes = {
        str(path.relative_to(DASHBOARD)): len(path.read_text().splitlines())
        for path in views_modules()
    }

    assert len(sizes) >= 3, sizes  # stores, Amazon orders, Commerce orders
    assert {name: size for name, size in sizes.items() if size > LARGEST_VIEWS_MODULE} == {}


@pytest.mark.parametrize("area", ["stores", "amazon_orders", "commerce_orders"])
def test_each_area_has_its_views_forms_and_urls(area):
    for module in ("views.py", "forms.py", "urls.py"):
        assert (DASHBOARD / area / module).is_file(), f"{area}/{module}"


def test_both_list_pages_filter_with_one_form_machinery():
    assert issubclass(OrderFilterForm, ListFilterForm)
    assert issubclass(CommerceOrderGridForm, ListFilterForm)


def test_one_sort_header_and_one_chips_partial():
    # Jinja2 partials (dashboard/fragments.py); the Django pages include them by a tag.
    partials = {path.name for path in (TEMPLATES / "jinja2" / "partials").glob("*.html")}
    django_partials = {path.name for path in (TEMPLATES / "partials").glob("*.html")}

    assert "sort_header.html" in partials
    assert "filter_chips.html" in partials
    assert not {name for name in partials if "sort_header" in name or "chips" in name} - {
        "sort_header.html",
        "filter_chips.html",
    }
    assert not {name for name in django_partials if "sort_header" in name or "chips" in name}


@pytest.mark.django_db
def test_all_orders_and_the_grid_render_the_same_partials(client):
    client.force_login(
        user_with_app_permissions(
            "both",
            *COMMERCE_PERMISSIONS,
            "amazon_channel.view_store",
            "amazon_channel.view_amazonorder",
        )
    )
    store = StoreFactory()

    amazon = client.get(reverse("dashboard:order_list", args=[store.pk]), {"order_number": "302-1"})
    commerce = client.get(reverse("dashboard:commerce_order_list"), {"search": "0001"})

    # All Orders' content is Jinja2 (templates/jinja2/dashboard/order_list.html), the grid a
    # Django template: each names the same two partials, and both pages show what they write.
    amazon_template = (TEMPLATES / "jinja2" / "dashboard" / "order_list.html").read_text()
    commerce_template = (TEMPLATES / "dashboard" / "commerce_order_list.html").read_text()
    assert '{% include "partials/sort_header.html" %}' in amazon_template
    assert '{% include "partials/filter_chips.html" %}' in amazon_template
    assert '{% page_fragment "partials/sort_header.html" ' in commerce_template
    assert '{% page_fragment "partials/filter_chips.html" %}' in commerce_template
    for response in (amazon, commerce):
        assert response.status_code == 200
        content = response.content.decode()
        assert 'class="chip"' in content
        assert '<a class="sort-link' in content


def test_the_order_settings_fields_are_defined_once():
    store_admin = admin.site._registry[Store]
    admin_fields = {
        str(title): options["fields"] for title, options in store_admin.get_fieldsets(None)
    }

    assert OrderSettingsForm._meta.fields is ORDER_SETTINGS_FIELDS
    assert admin_fields["Order Settings"] is ORDER_SETTINGS_FIELDS


def test_the_list_forms_offer_the_filters_of_their_selectors_filter_sets():
    assert issubclass(AmazonOrderFilterSet, ListFilterSet)
    assert OrderFilterForm.filter_fields == tuple(AmazonOrderFilterSet.base_filters)
    assert tuple(AmazonOrderFilterSet.base_filters) == tuple(OrderFilters.__dataclass_fields__)
    assert CommerceOrderGridForm.filter_fields == tuple(OrderGridFilterSet.base_filters)
