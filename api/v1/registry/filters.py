"""Filters of the registry lists."""

import django_filters
from django.db.models import F

from api.v1.filters import BooleanFilter, FilterSet, IdFilter
from registry.choices import DeploymentKind, Stage
from registry.models import DeploymentEvent, ModelVersion, RegisteredModel


class RegisteredModelFilter(FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    name = django_filters.CharFilter(field_name="name")

    class Meta:
        model = RegisteredModel
        fields = ["project", "name"]


class ModelVersionFilter(FilterSet):
    project = django_filters.CharFilter(field_name="registered_model__project__slug")
    registered_model = IdFilter(field_name="registered_model")
    stage = django_filters.ChoiceFilter(field_name="current_stage", choices=Stage.choices)
    alias = django_filters.CharFilter(field_name="aliases__alias")
    in_production = BooleanFilter(method="filter_in_production")

    class Meta:
        model = ModelVersion
        fields = ["project", "registered_model", "stage", "alias", "in_production"]

    def filter_in_production(self, queryset, name, value):
        if value is None:
            return queryset
        at = queryset.filter(aliases__alias=F("production_alias_name"))
        wanted = at.values("pk")
        return queryset.filter(pk__in=wanted) if value else queryset.exclude(pk__in=wanted)


class DeploymentEventFilter(FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    registered_model = IdFilter(field_name="registered_model")
    kind = django_filters.ChoiceFilter(choices=DeploymentKind.choices)

    class Meta:
        model = DeploymentEvent
        fields = ["project", "registered_model", "kind"]
