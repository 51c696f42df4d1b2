"""Filters of the experiment lists: deleted rows only when asked for."""

import django_filters

from api.v1.filters import FilterSet, IdFilter
from experiments.choices import LifecycleStage, RunStatus
from experiments.models import Experiment, Run


class ActiveByDefault(FilterSet):
    """Deleted rows are left out unless ``lifecycle_stage=deleted`` asks for them."""

    lifecycle_stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices)

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("lifecycle_stage"):
            queryset = queryset.filter(lifecycle_stage=LifecycleStage.ACTIVE)
        return super().filter_queryset(queryset)


class ExperimentFilter(ActiveByDefault):
    project = django_filters.CharFilter(field_name="project__slug")

    class Meta:
        model = Experiment
        fields = ["project", "lifecycle_stage"]


class RunFilter(ActiveByDefault):
    project = django_filters.CharFilter(field_name="experiment__project__slug")
    experiment = IdFilter(field_name="experiment")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = Run
        fields = ["project", "experiment", "status", "lifecycle_stage"]
