"""Outcome reviews: accept, or reject saying what is missing."""

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from phases import services
from phases.admin.common import (
    ManagedProjectsMixin,
    OutcomePhaseFilter,
    _action_page,
    _changes,
    _each,
    _ServiceWritesAdmin,
)
from phases.models import REVIEW_FIELDS, Outcome

# --- Outcomes ---------------------------------------------------------------------------


class RejectForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="What is missing; the team reads it on the outcome and in the gate.",
    )


@admin.register(Outcome)
class OutcomeAdmin(ManagedProjectsMixin, _ServiceWritesAdmin):
    """Outcomes are created with their phase; here they are reviewed and their evidence kept,
    by the managers of their project."""

    project_path = "phase__project"

    list_display = [
        "name",
        "project_link",
        "phase_name",
        "kind",
        "required",
        "review_status",
        "reviewer",
        "reviewed_at",
    ]
    list_filter = [
        "review_status",
        OutcomePhaseFilter,
        ("phase__project", admin.RelatedOnlyFieldListFilter),
        "kind",
        "required",
    ]
    search_fields = ["name", "description", "phase__name", "phase__project__name"]
    fields = [
        "phase",
        "name",
        "description",
        "kind",
        "required",
        "evidence_url",
        *REVIEW_FIELDS,
    ]
    readonly_fields = ["phase", *REVIEW_FIELDS]
    actions = ["accept", "reject"]

    def get_queryset(self, request):
        """Selected here for the page and the list alike: the list ignores
        ``list_select_related`` once the queryset selects, and would read each reviewer."""
        return super().get_queryset(request).select_related("phase__project", "reviewer")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        """No service removes an outcome, and a deleted required one would open its gate."""
        return False

    def save_model(self, request, obj, form, change):
        if form.changed_data:
            services.outcome_update(outcome=obj, by=request.user, **_changes(form))

    @admin.display(description="project", ordering="phase__project__name")
    def project_link(self, outcome: Outcome) -> SafeString:
        project = outcome.phase.project
        url = reverse("admin:phases_project_change", args=[project.pk])
        return format_html('<a href="{}">{}</a>', url, project)

    @admin.display(description="phase", ordering="phase__order")
    def phase_name(self, outcome: Outcome) -> str:
        return outcome.phase.name

    @admin.action(description="Accept", permissions=["change"])
    def accept(self, request, queryset: QuerySet[Outcome]) -> None:
        def accept(outcome: Outcome) -> str:
            services.outcome_accept(outcome=outcome, by=request.user)
            return f"“{outcome}” is accepted."

        _each(self, request, queryset, accept)

    @admin.action(description="Reject…", permissions=["change"])
    def reject(self, request, queryset: QuerySet[Outcome]) -> TemplateResponse | None:
        outcomes = list(queryset)
        form = RejectForm(request.POST if "post" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return _action_page(
                self,
                request,
                action="reject",
                title="Reject outcomes",
                intro="Say what is missing. The note goes on every selected outcome, and the "
                "gate of its phase shows it until the outcome is accepted.",
                objects=outcomes,
                form=form,
                submit="Reject",
            )

        def reject(outcome: Outcome) -> str:
            note = form.cleaned_data["note"]
            services.outcome_reject(outcome=outcome, by=request.user, note=note)
            return f"“{outcome}” is rejected."

        _each(self, request, outcomes, reject)
        return None
