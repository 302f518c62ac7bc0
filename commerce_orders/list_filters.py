"""The one filter set machinery of the order lists (django-filter), beside their one keyset
paginator (commerce_orders.keyset): the Orders grid here, Amazon's All Orders above it.

The list pages' forms (dashboard.lists) parse and check what the merchant typed; a selector
hands the typed values (dates or datetimes, Decimals, choices) to its filter set, which
applies each given one to the queryset. So a value passes through as it is (a Filter's field
is a plain forms.Field) and an empty one applies no filter.
"""

from django.db.models import QuerySet
from django_filters import Filter, FilterSet

__all__ = ["Filter", "ListFilterSet"]


class ListFilterSet(FilterSet):
    @classmethod
    def filtered(cls, rows: QuerySet, values: dict, **options) -> QuerySet:
        """`rows` narrowed by each filter given a value in `values`; `options` go to the
        filter set (what its filters need, such as All Orders' store). Raises ValueError for
        a name the filter set does not have."""
        unknown = set(values) - set(cls.base_filters)
        if unknown:
            raise ValueError(f"unknown filters {sorted(unknown)!r}")
        return cls(data=values, queryset=rows, **options).qs
