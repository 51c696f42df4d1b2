"""Filters of the lifecycle lists (django-filter); see ``api.v1.filters`` for the field rules."""

import django_filters

from api.v1.filters import FilterSet, IdFilter, IsoDateTimeFilter
from phases.models import LifecycleTemplate, Membership, Outcome, Phase, Project, Task, Transition


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
    since = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Transition
        fields = ["project", "kind", "since"]
