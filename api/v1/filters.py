"""Filters of the v1 lists (django-filter)."""

import django_filters

from phases.models import Membership, Outcome, Phase, Project, Task, Transition


class ProjectFilter(django_filters.FilterSet):
    lifecycle = django_filters.CharFilter(field_name="lifecycle__slug")
    phase = django_filters.CharFilter(field_name="current_phase__name", lookup_expr="iexact")
    owner = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = Project
        fields = ["lifecycle", "phase", "owner", "health", "success_direction"]


class MembershipFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    user = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = Membership
        fields = ["project", "user", "role"]


class PhaseFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")

    class Meta:
        model = Phase
        fields = ["project", "status", "due_before"]


class TaskFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="phase__project__slug")
    assignee = django_filters.CharFilter(field_name="assignee__username")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")

    class Meta:
        model = Task
        fields = ["project", "phase", "assignee", "status", "priority", "required", "due_before"]


class OutcomeFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="phase__project__slug")

    class Meta:
        model = Outcome
        fields = ["project", "phase", "kind", "review_status", "required"]


class TransitionFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Transition
        fields = ["project", "kind", "since"]
