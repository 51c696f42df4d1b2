"""The admin for project managers: projects with their phases, tasks and outcomes, the
lifecycle templates they come from, and the transition history.

Every write to a project goes through ``phases.services``, the same functions the API calls:
the forms only validate input and report which fields changed, so the admin can never allow
what the API refuses (an assignee from outside the project, an edit in a completed phase, an
owner who is not a manager). ``DomainError`` becomes an admin message in this module only,
through :func:`_refusal`. Lifecycle templates have no services and are saved as edited.
"""

from collections.abc import Callable, Iterable

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminDateWidget
from django.db import models
from django.db.models import Count, Exists, Min, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify

from mlprojects.exceptions import DomainError
from phases import services
from phases.choices import Health
from phases.models import (
    LifecycleTemplate,
    Membership,
    Outcome,
    OutcomeTemplate,
    Phase,
    PhaseTemplate,
    Project,
    Task,
    TaskTemplate,
    Transition,
    TransitionRule,
)
from phases.selectors import back_targets_of, phase_gate

admin.site.site_header = "mlprojects administration"
admin.site.site_title = "mlprojects administration"

ACTION_PAGE = "admin/phases/action_form.html"

_HEALTH_COLOURS = {Health.GREEN: "#2e7d32", Health.AMBER: "#a15c00", Health.RED: "#c62828"}


def _refusal(error: DomainError, subject: object = None) -> SafeString:
    """Word a service refusal for a manager; a gate refusal lists every unmet criterion, so
    the whole checklist shows at once instead of one "no" per attempt. Lines, not a list:
    the admin's message styles would give each list item a success tick."""
    prefix = format_html("“{}”: ", subject) if subject is not None else ""
    if isinstance(error, services.GateNotMet):
        lines = format_html_join("", "<br>&ndash; {}", ((c.message,) for c in error.gate.unmet))
        return format_html("{}{}{}", prefix, error.headline, lines)
    return format_html("{}{}", prefix, error.message)


def _action_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    action: str,
    title: str,
    intro: str,
    objects: Iterable[object],
    form: forms.Form,
    submit: str,
    notes: Iterable[str] = (),
) -> TemplateResponse:
    """The intermediate page of an action that needs input, posted back to the changelist
    like Django's delete confirmation, so the action runs again with ``post`` set."""
    request.current_app = model_admin.admin_site.name
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "intro": intro,
        "notes": list(notes),
        "objects": list(objects),
        "form": form,
        "action": action,
        "submit": submit,
        "opts": model_admin.opts,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, ACTION_PAGE, context)


def _changes(row: forms.ModelForm) -> dict[str, object]:
    return {name: row.cleaned_data[name] for name in row.changed_data}


def _write_rows(
    formset: forms.BaseModelFormSet,
    *,
    create: Callable[[forms.ModelForm], object] | None = None,
    update: Callable[[forms.ModelForm], object],
    remove: Callable[[object], None] | None = None,
) -> None:
    """Hand each changed row of an inline to a service instead of ``formset.save()``, and
    record what happened on the formset, where the admin's history message reads it."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    deleted = formset.deleted_forms
    for row in deleted:
        if row.instance.pk is not None and remove is not None:
            remove(row.instance)
            formset.deleted_objects.append(row.instance)
    for row in formset.forms:
        if row in deleted or not row.has_changed():
            continue
        if row.instance.pk is None and create is not None:
            formset.new_objects.append(create(row))
        else:
            update(row)
            formset.changed_objects.append((row.instance, row.changed_data))


class _ServiceWritesAdmin(admin.ModelAdmin):
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A service refusal ends the save: the admin's transaction rolls back, so nothing
        on the page is half-saved, and the manager reads why."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(
                request, format_html("Nothing was saved. {}", _refusal(error)), messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())


class _PhaseNameFilter(admin.SimpleListFilter):
    """Filter by phase name: each project has its own phase rows, so a filter by row would
    list one entry per project, while managers think of "everything in Experimentation"."""

    field_path = ""

    def lookups(self, request, model_admin):
        names = Phase.objects.values("name").annotate(first=Min("order")).order_by("first", "name")
        return [(row["name"], row["name"]) for row in names]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field_path: self.value()})
        return queryset


class CurrentPhaseFilter(_PhaseNameFilter):
    title = "current phase"
    parameter_name = "current_phase"
    field_path = "current_phase__name"


class OutcomePhaseFilter(_PhaseNameFilter):
    title = "phase"
    parameter_name = "phase"
    field_path = "phase__name"


# --- Projects ---------------------------------------------------------------------------


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


class MembershipInline(nested_admin.NestedTabularInline):
    model = Membership
    form = MembershipForm
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class TaskInline(nested_admin.NestedTabularInline):
    """Tasks are never deleted here: no service removes one, and a deleted required task
    would open a gate silently; a task that is no longer needed is marked not required."""

    model = Task
    fields = ["title", "assignee", "status", "priority", "required", "due_date"]
    autocomplete_fields = ["assignee"]
    can_delete = False
    extra = 0


class OutcomeInline(nested_admin.NestedTabularInline):
    model = Outcome
    fields = ["name", "kind", "required", "evidence_url", "review_status", "reviewer"]
    readonly_fields = ["review_status", "reviewer"]
    show_change_link = True
    can_delete = False
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reviewer")


class PhaseInline(nested_admin.NestedTabularInline):
    """Phases come from the lifecycle template when the project is created and move only
    through transitions, so only their planned dates are edited here."""

    model = Phase
    fields = ["name", "status", "start_date", "due_date", "started_at", "ended_at"]
    readonly_fields = ["name", "status", "started_at", "ended_at"]
    inlines = [TaskInline, OutcomeInline]
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class TransitionInline(nested_admin.NestedTabularInline):
    model = Transition
    fields = ["created_at", "kind", "from_name", "to_name", "by", "reason"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    verbose_name_plural = "transition history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_phase", "to_phase", "by")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="from")
    def from_name(self, transition: Transition) -> str:
        return transition.from_phase.name if transition.from_phase else "—"

    @admin.display(description="to")
    def to_name(self, transition: Transition) -> str:
        return transition.to_phase.name


class MoveBackForm(forms.Form):
    """One target per project, because every project has its own phases and back edges, and
    one reason for all of them, because a move back is never silent."""

    def __init__(self, *args, targets: dict[Project, list[Phase]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for project, phases in targets.items():
            self.fields[f"to_{project.pk}"] = forms.TypedChoiceField(
                label=str(project),
                coerce=int,
                choices=[(phase.pk, phase.name) for phase in phases],
                help_text=f"Now in {project.current_phase.name}.",
            )
        self.fields["reason"] = forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
            help_text="Recorded with every move; reopened outcomes carry it in their note.",
        )


@admin.register(Project)
class ProjectAdmin(_ServiceWritesAdmin, nested_admin.NestedModelAdmin):
    list_display = [
        "name",
        "lifecycle",
        "current_phase_name",
        "health_badge",
        "health_why",
        "owner",
    ]
    list_filter = [
        CurrentPhaseFilter,
        "health",
        ("owner", admin.RelatedOnlyFieldListFilter),
        "lifecycle",
    ]
    list_select_related = ["lifecycle", "current_phase", "owner"]
    search_fields = ["name", "slug", "description", "owner__username"]
    autocomplete_fields = ["owner"]
    actions = ["advance", "move_back", "refresh_health"]
    inlines = [MembershipInline, PhaseInline, TransitionInline]
    add_fieldsets = (
        (None, {"fields": ["name", "slug", "description", "owner", "lifecycle", "start_date"]}),
        ("Success", {"fields": ["success_metric", "success_target", "success_direction"]}),
    )
    fieldsets = (
        (None, {"fields": ["name", "slug", "description", "owner", "lifecycle"]}),
        ("Success", {"fields": ["success_metric", "success_target", "success_direction"]}),
        (
            "Progress",
            {
                "fields": [
                    "current_phase_name",
                    "gate_checklist",
                    "health_badge",
                    "health_reasons_list",
                    "health_checked_at",
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    )
    readonly_fields = [
        "slug",
        "owner",
        "lifecycle",
        "current_phase_name",
        "gate_checklist",
        "health_badge",
        "health_reasons_list",
        "health_checked_at",
        "created_at",
        "updated_at",
    ]

    # --- Columns and read-only fields ---

    @admin.display(description="current phase", ordering="current_phase__order")
    def current_phase_name(self, project: Project) -> str:
        return project.current_phase.name if project.current_phase else "—"

    @admin.display(description="health", ordering="health")
    def health_badge(self, project: Project) -> SafeString:
        return format_html(
            '<strong style="color: {}" title="{}">{}</strong>',
            _HEALTH_COLOURS.get(project.health, "inherit"),
            "\n".join(project.health_reasons) or "Nothing wrong.",
            project.get_health_display(),
        )

    @admin.display(description="why")
    def health_why(self, project: Project) -> str:
        return " ".join(project.health_reasons) or "—"

    @admin.display(description="health reasons")
    def health_reasons_list(self, project: Project) -> SafeString | str:
        if not project.health_reasons:
            return "—"
        items = format_html_join("", "<li>{}</li>", ((r,) for r in project.health_reasons))
        return format_html("<ul>{}</ul>", items)

    @admin.display(description="gate of the current phase")
    def gate_checklist(self, project: Project) -> SafeString | str:
        if project.current_phase is None:
            return "—"
        gate = phase_gate(phase=project.current_phase)
        if not gate.criteria:
            return "No exit criteria: the phase may move on."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} {}</li>",
                (("✔" if c.met else "✘", c.message) for c in gate.criteria),
            ),
        )

    # --- Add and change pages ---

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else super().get_readonly_fields(request, obj)

    def get_inlines(self, request, obj):
        """A new project gets its phases, tasks and outcomes from the service, not from forms."""
        return [] if obj is None else super().get_inlines(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ProjectAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lifecycle":
            kwargs["queryset"] = LifecycleTemplate.objects.filter(
                Exists(PhaseTemplate.objects.filter(lifecycle=OuterRef("pk")))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            if form.changed_data:
                services.project_update(project=obj, by=request.user, **_changes(form))
            return
        data = form.cleaned_data
        project = services.project_create(
            lifecycle=data["lifecycle"],
            name=data["name"],
            owner=data["owner"],
            by=request.user,
            slug=data["slug"],
            description=data["description"],
            success_metric=data["success_metric"],
            success_target=data["success_target"],
            success_direction=data["success_direction"],
            start_date=data["start_date"],
        )
        # The admin goes on with ``obj`` (history log, redirect), so it becomes the new row.
        obj.pk = project.pk
        obj.refresh_from_db()

    def response_post_save_add(self, request, obj):
        """The phases, tasks and outcomes the service made show only on the change page."""
        return HttpResponseRedirect(reverse("admin:phases_project_change", args=[obj.pk]))

    def save_formset(self, request, form, formset, change):
        """One service call per changed row, in the order the admin saves the inlines
        (members before tasks, so a new member can be assigned in the same save)."""
        by = request.user
        parent = formset.instance
        if formset.model is Membership:

            def set_role(row: forms.ModelForm) -> Membership:
                user, role = row.cleaned_data["user"], row.cleaned_data["role"]
                return services.membership_set(project=parent, user=user, role=role)

            _write_rows(
                formset,
                create=set_role,
                update=set_role,
                remove=lambda membership: services.membership_remove(membership=membership),
            )
        elif formset.model is Phase:
            _write_rows(
                formset,
                update=lambda row: services.phase_update(
                    phase=row.instance, by=by, **_changes(row)
                ),
            )
        elif formset.model is Task:
            _write_rows(
                formset,
                create=lambda row: services.task_create(phase=parent, by=by, **_changes(row)),
                update=lambda row: services.task_update(task=row.instance, by=by, **_changes(row)),
            )
        elif formset.model is Outcome:
            _write_rows(
                formset,
                create=lambda row: services.outcome_create(phase=parent, by=by, **_changes(row)),
                update=lambda row: services.outcome_update(
                    outcome=row.instance, by=by, **_changes(row)
                ),
            )
        else:
            super().save_formset(request, form, formset, change)

    # --- Actions ---

    @admin.action(description="Advance to the next phase", permissions=["change"])
    def advance(self, request, queryset: QuerySet[Project]) -> None:
        for project in queryset:
            try:
                transition = services.phase_advance(project=project, by=request.user)
            except DomainError as error:
                self.message_user(request, _refusal(error, project), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"“{project}” moved from {transition.from_phase.name} to "
                    f"{transition.to_phase.name}.",
                    messages.SUCCESS,
                )

    @admin.action(description="Move back…", permissions=["change"])
    def move_back(self, request, queryset: QuerySet[Project]) -> TemplateResponse | None:
        projects = list(queryset.select_related("current_phase"))
        targets = back_targets_of(projects=projects)
        movable = {p: targets[p.pk] for p in projects if targets.get(p.pk)}
        stuck = [
            f"“{p}” has no earlier phase it may move back to"
            + (f" from {p.current_phase.name}." if p.current_phase else ".")
            for p in projects
            if p not in movable
        ]
        if not movable:
            for note in stuck:
                self.message_user(request, note, messages.ERROR)
            return None
        form = MoveBackForm(request.POST if "post" in request.POST else None, targets=movable)
        if not (form.is_bound and form.is_valid()):
            return _action_page(
                self,
                request,
                action="move_back",
                title="Move projects back",
                intro="Choose the phase each project loops back to, and say why. The phases "
                "after it return to planned, and their outcomes go back to pending review.",
                objects=projects,
                form=form,
                submit="Move back",
                notes=[f"{note} It stays where it is." for note in stuck],
            )
        for project, phases in movable.items():
            to_phase = next(p for p in phases if p.pk == form.cleaned_data[f"to_{project.pk}"])
            try:
                transition = services.phase_move_back(
                    project=project,
                    to_phase=to_phase,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                self.message_user(request, _refusal(error, project), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"“{project}” moved back from {transition.from_phase.name} to "
                    f"{transition.to_phase.name}.",
                    messages.SUCCESS,
                )
        return None

    @admin.action(description="Recompute health", permissions=["change"])
    def refresh_health(self, request, queryset: QuerySet[Project]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        changed = services.project_health_refresh(project_ids=ids)
        self.message_user(
            request,
            f"Health recomputed for {len(ids)} project(s); {changed} changed.",
            messages.SUCCESS,
        )


# --- Outcomes ---------------------------------------------------------------------------


class RejectForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="What is missing; the team reads it on the outcome and in the gate.",
    )


@admin.register(Outcome)
class OutcomeAdmin(_ServiceWritesAdmin):
    """Outcomes are created with their phase; here they are reviewed and their evidence kept."""

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
    list_select_related = ["phase__project", "reviewer"]
    search_fields = ["name", "description", "phase__name", "phase__project__name"]
    fields = [
        "phase",
        "name",
        "description",
        "kind",
        "required",
        "evidence_url",
        "review_status",
        "submitted_by",
        "submitted_at",
        "reviewer",
        "reviewed_at",
        "review_note",
    ]
    readonly_fields = [
        "phase",
        "review_status",
        "submitted_by",
        "submitted_at",
        "reviewer",
        "reviewed_at",
        "review_note",
    ]
    actions = ["accept", "reject"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("phase__project")

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
        for outcome in queryset:
            try:
                services.outcome_accept(outcome=outcome, by=request.user)
            except DomainError as error:
                self.message_user(request, _refusal(error, outcome), messages.ERROR)
            else:
                self.message_user(request, f"“{outcome}” is accepted.", messages.SUCCESS)

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
        for outcome in outcomes:
            try:
                services.outcome_reject(
                    outcome=outcome, by=request.user, note=form.cleaned_data["note"]
                )
            except DomainError as error:
                self.message_user(request, _refusal(error, outcome), messages.ERROR)
            else:
                self.message_user(request, f"“{outcome}” is rejected.", messages.SUCCESS)
        return None


# --- Transition history -----------------------------------------------------------------


class MovedByFilter(admin.RelatedOnlyFieldListFilter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.title = "moved by"


@admin.register(Transition)
class TransitionAdmin(admin.ModelAdmin):
    """The audit trail: rows are written by the transition services and never edited."""

    list_display = ["project", "kind", "from_name", "to_name", "by", "created_at", "reason"]
    list_filter = [
        "kind",
        ("project", admin.RelatedOnlyFieldListFilter),
        ("by", MovedByFilter),
    ]
    list_select_related = ["project", "from_phase", "to_phase", "by"]
    search_fields = [
        "project__name",
        "reason",
        "by__username",
        "from_phase__name",
        "to_phase__name",
    ]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="from", ordering="from_phase__order")
    def from_name(self, transition: Transition) -> str:
        return transition.from_phase.name if transition.from_phase else "—"

    @admin.display(description="to", ordering="to_phase__order")
    def to_name(self, transition: Transition) -> str:
        return transition.to_phase.name


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
        return (
            super()
            .get_queryset(request)
            .annotate(
                phase_count=Count("phase_templates", distinct=True),
                project_count=Count("projects", distinct=True),
            )
        )

    @admin.display(description="phases", ordering="phase_count")
    def phase_count(self, lifecycle: LifecycleTemplate) -> int:
        return lifecycle.phase_count

    @admin.display(description="projects", ordering="project_count")
    def project_count(self, lifecycle: LifecycleTemplate) -> int:
        return lifecycle.project_count

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
