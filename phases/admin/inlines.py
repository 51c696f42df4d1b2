"""The forms and inlines of a project's change page: members, the current phase with its
tasks and outcomes, the other phases folded, and the history."""

import nested_admin
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils.text import slugify

from phases.admin.common import (
    NameOnly,
    PersonChoiceField,
    PersonSelect,
    ReadOnlyMixin,
    TransitionColumns,
    manages,
    person_name,
)
from phases.choices import ReviewStatus, TaskStatus
from phases.models import (
    Membership,
    Outcome,
    Phase,
    Task,
    Transition,
)


class ProjectAddForm(forms.ModelForm):
    start_date = forms.DateField(
        required=False,
        widget=AdminDateWidget,
        help_text="The first phase starts on this day (today when left blank); the next "
        "phases follow on, each as long as its template expects.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].help_text = "Made from the name when left blank."

    def clean_slug(self) -> str:
        """Slugs appear in URLs and the API; the service accepts only the form slugify makes."""
        slug = self.cleaned_data["slug"]
        if slug and slug != slugify(slug):
            raise forms.ValidationError("Use only lowercase letters, digits and dashes.")
        return slug


class MembershipForm(forms.ModelForm):
    def __init__(self, *args, **kwargs) -> None:
        """A row's user is fixed once saved: another user is a removal and an addition,
        which the inline asks for explicitly."""
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["user"].disabled = True
            self.fields["user"].widget = NameOnly(person_name(self.instance.user))


PEOPLE_PAGE = 20


def _people_url(project_id: object = None) -> str:
    url = reverse("admin:phases_project_people")
    return f"{url}?project={project_id}" if project_id else url


def person_field(inline, db_field, request, kwargs, *, members_only: bool) -> forms.Field:
    """A person picker that searches as one types and names people by their full name;
    for assignees it offers the project's members. The form accepts anyone active, so a
    member added in the same save can be assigned; the task services refuse the rest."""
    match = request.resolver_match
    project_id = match.kwargs.get("object_id") if match else None
    people = get_user_model().objects.filter(is_active=True)
    kwargs["queryset"] = people
    widget = PersonSelect(
        db_field, inline.admin_site, url=_people_url(project_id if members_only else None)
    )
    if members_only and project_id and str(project_id).isdigit():
        widget.preload = people.filter(memberships__project_id=int(project_id)).values("pk")
    kwargs["widget"] = widget
    return db_field.formfield(form_class=PersonChoiceField, **kwargs)


class _ProjectPartInline:
    """An inline of a project's page: whoever manages the project edits it, as on the
    project itself (nested inlines are asked about their phase)."""

    def has_view_permission(self, request, obj=None) -> bool:
        return manages(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return manages(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return manages(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.can_delete and manages(request, obj)


class MembershipInline(_ProjectPartInline, nested_admin.NestedTabularInline):
    model = Membership
    form = MembershipForm
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "project")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            return person_field(self, db_field, request, kwargs, members_only=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TaskInline(_ProjectPartInline, nested_admin.NestedTabularInline):
    """Tasks are never deleted here: no service removes one, and a deleted required task
    would open a gate silently; a task that is no longer needed is marked not required."""

    model = Task
    fields = ["title", "assignee", "status", "priority", "required", "due_date"]
    can_delete = False
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assignee")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            return person_field(self, db_field, request, kwargs, members_only=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OutcomeInline(_ProjectPartInline, nested_admin.NestedTabularInline):
    model = Outcome
    fields = ["name", "kind", "required", "evidence_url", "review_status", "reviewer_name"]
    readonly_fields = ["review_status", "reviewer_name"]
    show_change_link = True
    can_delete = False
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reviewer")

    @admin.display(description="reviewer")
    def reviewer_name(self, outcome: Outcome) -> str:
        return person_name(outcome.reviewer) if outcome.reviewer_id else "—"


class PhaseInline(_ProjectPartInline, nested_admin.NestedStackedInline):
    """The current phase, with its tasks and outcomes: where a manager works day to day.

    Phases come from the lifecycle template when the project is created and move only
    through transitions, so only their planned dates are edited here."""

    model = Phase
    fields = [("name", "status"), ("start_date", "due_date"), ("started_at", "ended_at")]
    readonly_fields = ["name", "status", "started_at", "ended_at"]
    inlines = [TaskInline, OutcomeInline]
    can_delete = False
    extra = 0
    verbose_name = "current phase"
    verbose_name_plural = "current phase"

    def get_queryset(self, request):
        current = super().get_queryset(request).filter(project__current_phase=F("pk"))
        return current.select_related("project")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OtherPhaseInline(_ProjectPartInline, nested_admin.NestedTabularInline):
    """The other phases, folded: their planned dates, and their work in numbers. Their
    tasks and outcomes are edited when the project is in them (the status page lists them)."""

    model = Phase
    fields = ["name", "status", "start_date", "due_date", "work"]
    readonly_fields = ["name", "status", "work"]
    can_delete = False
    extra = 0
    classes = ["collapse"]
    verbose_name = "other phase"
    verbose_name_plural = "other phases"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("project")
            .exclude(project__current_phase=F("pk"))
            .annotate(
                task_count=Count("tasks", distinct=True),
                tasks_done=Count("tasks", filter=Q(tasks__status=TaskStatus.DONE), distinct=True),
                outcome_count=Count("outcomes", distinct=True),
                accepted=Count(
                    "outcomes",
                    filter=Q(outcomes__review_status=ReviewStatus.ACCEPTED),
                    distinct=True,
                ),
            )
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="work")
    def work(self, phase: Phase) -> str:
        if phase.pk is None:
            return "—"
        return (
            f"{phase.tasks_done} of {phase.task_count} tasks done, "
            f"{phase.accepted} of {phase.outcome_count} outcomes accepted"
        )


class TransitionInline(
    ReadOnlyMixin, _ProjectPartInline, TransitionColumns, nested_admin.NestedTabularInline
):
    model = Transition
    fields = ["created_at", "kind", "from_name", "to_name", "by_name", "reason"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    classes = ["collapse"]
    verbose_name_plural = "transition history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_phase", "to_phase", "by")

    @admin.display(description="by")
    def by_name(self, transition: Transition) -> str:
        return person_name(transition.by) if transition.by_id else "—"
