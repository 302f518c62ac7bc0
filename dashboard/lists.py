"""What the list pages (All Orders, the Orders grid) share: their filter form's machinery (dates
within the calendar, ranges applied whole, sort and direction defaults, chips)."""

import datetime
from typing import ClassVar

from django import forms
from django.http import QueryDict
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _

from dashboard.fragments import FormRenderer

# A filter date means its whole day in the merchant's time zone: the day after it and the day
# before it must exist in every zone, and no purchase predates 1900 (date.max plus a day, or
# 0001-01-01 east of UTC, overflows).
EARLIEST_FILTER_DATE = datetime.date(1900, 1, 1)
LATEST_FILTER_DATE = datetime.date(9998, 12, 31)


class FilterDateField(forms.DateField):
    """A date filter within EARLIEST_FILTER_DATE and LATEST_FILTER_DATE."""

    widget = forms.DateInput(attrs={"type": "date"})
    default_error_messages = {
        "out_of_range": _("Enter a date from %(earliest)s to %(latest)s."),
    }

    def validate(self, value):
        super().validate(value)
        if value is not None and not EARLIEST_FILTER_DATE <= value <= LATEST_FILTER_DATE:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={
                    "earliest": date_format(EARLIEST_FILTER_DATE, "SHORT_DATE_FORMAT"),
                    "latest": date_format(LATEST_FILTER_DATE, "SHORT_DATE_FORMAT"),
                },
            )


DIRECTION_CHOICES = [("desc", _("Descending")), ("asc", _("Ascending"))]


class ListFilterForm(forms.Form):
    """A list page's GET form: filters, sort, direction and page cursor. Bad values become
    field errors beside the form; the valid filters still apply, and an unknown sort or
    direction falls back to `defaults`, so cleaned_data always has them.

    A range filter (`ranges`: from / to) applies whole or not at all: when one end is wrong
    (not a date or a number, or beyond the other end), the other end gets an error too, and
    the form's filters leave out both, instead of filtering by half of the range.
    Subclasses name their `filter_fields` (in the order of their chips) and the
    `cursor_fields` that a new filter resets.
    """

    default_renderer = FormRenderer()
    defaults: ClassVar[dict[str, str]] = {}
    filter_fields: ClassVar[tuple[str, ...]] = ()
    ranges: ClassVar[tuple[tuple[str, str], ...]] = ()
    cursor_fields: ClassVar[tuple[str, ...]] = ()

    def clean(self):
        cleaned = super().clean()
        for name, default in self.defaults.items():
            if not cleaned.get(name):
                cleaned[name] = default
        for low_name, high_name in self.ranges:
            low, high = cleaned.get(low_name), cleaned.get(high_name)
            if low is not None and high is not None and low > high:
                self.add_error(high_name, self._range_reversed_message(low_name))
        self._ranges_check()
        return cleaned

    def _range_reversed_message(self, low_name: str) -> str:
        if isinstance(self.fields[low_name], forms.DateField):
            return _("The end of the date range is before its start.")
        return _("The highest total is below the lowest total.")

    def _ranges_check(self) -> None:
        for ends in self.ranges:
            if not any(end in self.errors for end in ends):
                continue
            for end in ends:
                if end not in self.errors and self.data.get(end, "") != "":
                    self.add_error(
                        end, _("Not applied until the other end of the range is corrected.")
                    )

    def active_filters(self) -> dict:
        """The valid filters by name; a filter with an error, or none, is left out."""
        cleaned = self.cleaned_data
        return {
            name: cleaned[name]
            for name in self.filter_fields
            if cleaned.get(name) not in (None, "") and name not in self.errors
        }

    def chips(self, query: QueryDict) -> list[dict]:
        """One chip per active filter: its label, its value as shown, and the query without it
        (nor the page cursor)."""
        chips = []
        cleaned = getattr(self, "cleaned_data", {})
        for name in self.filter_fields:
            value = cleaned.get(name)
            if value in (None, "") or name in self.errors:
                continue
            remaining = query.copy()
            for dropped in (name, *self.cursor_fields):
                remaining.pop(dropped, None)
            chips.append(
                {
                    "name": name,
                    "label": self.fields[name].label,
                    "value": self._chip_value(name, value),
                    "query": remaining.urlencode(),
                }
            )
        return chips

    def _chip_value(self, name, value) -> str:
        field = self.fields[name]
        if isinstance(field, forms.DateField):
            return date_format(value, "SHORT_DATE_FORMAT")
        if isinstance(field, forms.DecimalField):
            return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
        if isinstance(field, forms.ChoiceField):
            return str(dict(field.choices).get(value, value))
        return value
