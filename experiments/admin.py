"""Experiment tracking in the admin: read-only views of what tools logged, plus the one thing
managers do here, linking a run to an outcome as its evidence (through the service).

Experiments and runs are written by the MLflow API only, so the admin never edits them;
metric points are not shown at all (millions of them, packed in chunks that only make sense
as charts), only each run's latest value per metric and its point count.

Every row belongs to a project; a manager sees and links only those of the projects they
manage (``phases.admin.common.ManagedProjectsMixin``, with each admin's ``project_path``).
"""

from django import forms
from django.contrib import admin
from django.db.models import Count

from experiments import services
from experiments.models import (
    Dataset,
    Experiment,
    ExperimentTag,
    MetricSeries,
    Param,
    Run,
    RunEvidence,
    RunTag,
    Sweep,
    Trial,
    TrialQuota,
)
from phases.admin.common import ManagedProjectsMixin, ReadOnlyInline, ReadOnlyMixin


class KeyValueInline(ReadOnlyInline):
    """The tags or params (``experiments.models.KeyValue``) of the row on the page, as the
    tool logged them."""

    fields = ["key", "value"]


class ExperimentTagInline(KeyValueInline):
    model = ExperimentTag


@admin.register(Experiment)
class ExperimentAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    list_display = ["name", "project", "is_default", "lifecycle_stage", "run_count"]
    list_filter = ["lifecycle_stage", "project"]
    search_fields = ["name", "project__name"]
    ordering = ["project__name", "name"]
    inlines = [ExperimentTagInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project").annotate(Count("runs"))

    @admin.display(description="runs", ordering="runs__count")
    def run_count(self, experiment: Experiment) -> int:
        return experiment.runs__count


class ParamInline(KeyValueInline):
    model = Param


class RunTagInline(KeyValueInline):
    model = RunTag


class MetricSeriesInline(ReadOnlyInline):
    model = MetricSeries
    fields = [
        "key",
        "latest_value",
        "latest_is_nan",
        "latest_step",
        "latest_timestamp",
        "point_count",
    ]
    verbose_name = "latest metric"
    verbose_name_plural = "latest metrics"


@admin.register(Run)
class RunAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "experiment__project"
    list_display = ["__str__", "run_id", "experiment", "status", "user_id", "lifecycle_stage"]
    list_filter = ["status", "lifecycle_stage", "experiment__project"]
    search_fields = ["run_id", "name", "experiment__name"]
    ordering = ["-start_time"]
    list_select_related = ["experiment"]
    inlines = [ParamInline, RunTagInline, MetricSeriesInline]


class RunEvidenceForm(forms.ModelForm):
    class Meta:
        model = RunEvidence
        fields = ["outcome", "run", "note"]

    def clean(self):
        data = super().clean()
        run, outcome = data.get("run"), data.get("outcome")
        if run and outcome and run.experiment.project_id != outcome.phase.project_id:
            raise forms.ValidationError("The run belongs to another project than the outcome.")
        return data


@admin.register(RunEvidence)
class RunEvidenceAdmin(ManagedProjectsMixin, admin.ModelAdmin):
    """Autocompletes, not raw ids, for both ends: they search the run and outcome admins,
    which list a manager's projects only, where a raw id box would name any row typed in."""

    project_path = "run__experiment__project"
    form = RunEvidenceForm
    list_display = ["run", "outcome", "linked_by", "created_at"]
    list_select_related = ["run", "outcome", "linked_by"]
    autocomplete_fields = ["run", "outcome"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        """Through the service, like every other link; the form has checked the project."""
        linked = services.run_evidence_link(
            run=obj.run, outcome=obj.outcome, by=request.user, note=obj.note
        )
        obj.pk = linked.pk


# --- Sweeps: written by their services and the workers; managers read them here, and set a
# project's cap on running trials.


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    list_display = ["name", "project", "source", "builtin", "target", "task", "rows"]
    list_filter = ["source", "task"]
    search_fields = ["name", "project__name"]
    list_select_related = ["project"]


class TrialInline(ReadOnlyInline):
    model = Trial
    fields = ["number", "status", "params", "value", "attempts", "error", "run"]
    show_change_link = True


@admin.register(Sweep)
class SweepAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    list_display = ["name", "project", "status", "strategy", "max_trials", "created_at"]
    list_filter = ["status", "strategy", "task"]
    search_fields = ["name", "project__name"]
    list_select_related = ["project"]
    inlines = [TrialInline]


@admin.register(Trial)
class TrialAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "sweep__project"
    list_display = ["__str__", "sweep", "status", "value", "attempts", "lease_owner"]
    list_filter = ["status"]
    list_select_related = ["sweep"]
    search_fields = ["sweep__name"]


@admin.register(TrialQuota)
class TrialQuotaAdmin(ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    list_display = ["project", "max_concurrent"]
    list_select_related = ["project"]
    autocomplete_fields = ["project"]

    def get_readonly_fields(self, request, obj=None):
        """A quota stays with its project; another project's cap is another row."""
        return ["project"] if obj is not None else []

    def save_model(self, request, obj, form, change) -> None:
        """Through the service, as every write of sweeps."""
        quota = services.trial_quota_set(
            project=obj.project, max_concurrent=obj.max_concurrent, by=request.user
        )
        obj.pk = quota.pk
