"""Filters of the v1 lists (django-filter).

Ids of related rows are plain numbers, not model choices: a choice filter answers 400 for an
id that does not exist and 200 for one of a hidden project, telling the two apart.
"""

import datetime as dt

import django_filters
from django import forms
from django.db import models
from drf_spectacular.utils import extend_schema_field


class StrictBooleanField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("must be true or false", code="invalid")


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, turned into UTC here: PostgreSQL holds offsets up to 15:59, and
    a moment whose UTC falls outside years 1 to 9999 has no value to compare with."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError(
                "must fall between the years 1 and 9999 in UTC", code="invalid"
            ) from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``since`` and ``until`` filters: an ISO 8601 moment, compared in UTC."""

    field_class = UtcDateTimeField


class BooleanFilter(django_filters.BooleanFilter):
    """``true`` or ``false``; anything else is refused rather than read as "no filter"."""

    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1})
class IdFilter(django_filters.NumberFilter):
    """A whole number that can be a row's id (1 to 2^63-1, so the database is never asked
    about one it cannot hold); not a model choice, see above."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class FilterSet(django_filters.FilterSet):
    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
    }
