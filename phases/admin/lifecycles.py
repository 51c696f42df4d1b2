"""Lifecycle templates: what new projects start from."""

import nested_admin
from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, Q

from phases.admin.common import managed_ids, manages
from phases.models import (
    LifecycleTemplate,
    OutcomeTemplate,
    PhaseTemplate,
    TaskTemplate,
    TransitionRule,
)

# --- Lifecycle templates ----------------------------------------------------------------


class TaskTemplateInline(nested_admin.NestedTabularInline):
    model = TaskTemplate
    fields = ["order", "title", "priority", "required"]
    extra = 0


class OutcomeTemplateInline(nested_admin.NestedTabularInline):
    model = OutcomeTemplate
    fields = ["order", "name", "kind", "required"]
    extra = 0


class TransitionRuleInline(nested_admin.NestedTabularInline):
    model = TransitionRule
    fk_name = "source"
    fields = ["target", "description"]
    extra = 0
    verbose_name = "allowed move"
    verbose_name_plural = "allowed moves from this phase"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A move may only lead to a phase of the same lifecycle: the one on the page."""
        if db_field.name == "target":
            match = request.resolver_match
            lifecycle_id = match.kwargs.get("object_id") if match else None
            kwargs["queryset"] = (
                PhaseTemplate.objects.filter(lifecycle_id=lifecycle_id).select_related("lifecycle")
                if lifecycle_id
                else PhaseTemplate.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PhaseTemplateInline(nested_admin.NestedStackedInline):
    model = PhaseTemplate
    fields = ["order", "name", "goal", "description", "expected_days"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 3})}}
    inlines = [TaskTemplateInline, OutcomeTemplateInline, TransitionRuleInline]
    extra = 0


@admin.register(LifecycleTemplate)
class LifecycleTemplateAdmin(nested_admin.NestedModelAdmin):
    """Edits change what new projects start from; existing projects keep their own copies."""

    list_display = ["name", "is_builtin", "phase_count", "project_count"]
    list_filter = ["is_builtin"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "description", "source", "is_builtin", "created_at"]
    readonly_fields = ["is_builtin", "created_at"]
    inlines = [PhaseTemplateInline]

    def get_queryset(self, request):
        """A manager counts the projects they manage: the others are not theirs to know of."""
        projects = None if request.user.is_superuser else Q(projects__in=managed_ids(request))
        return (
            super()
            .get_queryset(request)
            .annotate(
                phase_count=Count("phase_templates", distinct=True),
                project_count=Count("projects", distinct=True, filter=projects),
            )
        )

    @admin.display(description="phases", ordering="phase_count")
    def phase_count(self, lifecycle: LifecycleTemplate) -> int:
        return lifecycle.phase_count

    @admin.display(description="projects", ordering="project_count")
    def project_count(self, lifecycle: LifecycleTemplate) -> int:
        return lifecycle.project_count

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) or manages(request)

    def has_view_permission(self, request, obj=None) -> bool:
        """Managers read the lifecycles their projects follow; changing what every new
        project starts from takes Django's permissions (the superuser has them)."""
        return super().has_view_permission(request, obj) or manages(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        """Built-in lifecycles come from the seed documents; they may be edited, not deleted."""
        if obj is not None and obj.is_builtin:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        """The bulk delete asks permission without an object, so it would slip past the
        built-in check; templates are deleted one at a time from their own page instead."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
