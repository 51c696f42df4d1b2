"""Filters of the monitoring lists."""

import django_filters

from api.v1.filters import BooleanFilter, FilterSet, IdFilter
from monitoring.choices import AlertState, MonitorKind, ResultStatus
from monitoring.models import Alert, Deployment, Monitor, Result


class DeploymentFilter(FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    current = BooleanFilter(field_name="ended_at", lookup_expr="isnull")

    class Meta:
        model = Deployment
        fields = ["project", "current"]


class MonitorFilter(FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")
    kind = django_filters.ChoiceFilter(choices=MonitorKind.choices)

    class Meta:
        model = Monitor
        fields = ["project", "kind", "enabled"]


class ResultFilter(FilterSet):
    monitor = IdFilter(field_name="monitor")
    deployment = IdFilter(field_name="deployment")
    status = django_filters.ChoiceFilter(choices=ResultStatus.choices)

    class Meta:
        model = Result
        fields = ["monitor", "deployment", "status"]


class AlertFilter(FilterSet):
    project = django_filters.CharFilter(field_name="monitor__project__slug")
    monitor = IdFilter(field_name="monitor")
    kind = django_filters.ChoiceFilter(field_name="monitor__kind", choices=MonitorKind.choices)
    state = django_filters.ChoiceFilter(choices=AlertState.choices)

    class Meta:
        model = Alert
        fields = ["project", "monitor", "kind", "state"]
