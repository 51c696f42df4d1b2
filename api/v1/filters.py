"""Filters of the v1 lists (django-filter).

Ids of related rows are plain numbers, not model choices: a choice filter answers 400 for an
id that does not exist and 200 for one of a hidden project, telling the two apart.
"""

import django_filters
from django import forms
from django.db import models

from phases.models import LifecycleTemplate, Membership, Outcome, Phase, Project, Task, Transition


class StrictBooleanField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("must be true or false", code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    """``true`` or ``false``; anything else is refused rather than read as "no filter"."""

    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """A whole number; not a model choice, see above."""

    field_class = forms.IntegerField


class FilterSet(django_filters.FilterSet):
    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
    }


class LifecycleFilter(FilterSet):
    class Meta:
        model = LifecycleTemplate
        fields = ["is_builtin"]


class ProjectFilter(FilterSet):
    lifecycle = django_filters.CharFilter(field_name="lifecycle__slug")
    phase = django_filters.CharFilter(field_name="current_phase__name", lookup_expr="iexact")
    owner = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = Project
        fields = ["lifecycle", "phase", "owner", "health", "success_direction"]


class MembershipFilter(FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    user = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = Membership
        fields = ["project", "user", "role"]


class PhaseFilter(FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")

    class Meta:
        model = Phase
        fields = ["project", "status", "due_before"]


class TaskFilter(FilterSet):
    project = django_filters.CharFilter(field_name="phase__project__slug")
    phase = IdFilter(field_name="phase")
    assignee = django_filters.CharFilter(field_name="assignee__username")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")

    class Meta:
        model = Task
        fields = ["project", "phase", "assignee", "status", "priority", "required", "due_before"]


class OutcomeFilter(FilterSet):
    project = django_filters.CharFilter(field_name="phase__project__slug")
    phase = IdFilter(field_name="phase")

    class Meta:
        model = Outcome
        fields = ["project", "phase", "kind", "review_status", "required"]


class TransitionFilter(FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Transition
        fields = ["project", "kind", "since"]
