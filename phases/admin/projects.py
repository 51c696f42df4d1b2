"""Projects with their members, phases, tasks, outcomes and history; the lifecycle actions."""

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify

from phases import services
from phases.admin.common import (
    CurrentPhaseFilter,
    ReadOnlyMixin,
    TransitionColumns,
    _action_page,
    _changes,
    _each,
    _moved,
    _ServiceWritesAdmin,
    _write_rows,
)
from phases.models import (
    LifecycleTemplate,
    Membership,
    Outcome,
    Phase,
    PhaseTemplate,
    Project,
    Task,
    Transition,
)
from phases.selectors import back_targets_of, phase_gate

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


class TransitionInline(ReadOnlyMixin, TransitionColumns, nested_admin.NestedTabularInline):
    model = Transition
    fields = ["created_at", "kind", "from_name", "to_name", "by", "reason"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    verbose_name_plural = "transition history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_phase", "to_phase", "by")


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

    class Media:
        css = {"all": ["css/admin.css"]}

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
        # A class, not a style attribute: the Content-Security-Policy allows no inline style.
        return format_html(
            '<strong class="admin-health admin-health-{}" title="{}">{}</strong>',
            project.health,
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
        _each(
            self,
            request,
            queryset,
            lambda project: _moved(
                project, services.phase_advance(project=project, by=request.user)
            ),
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

        def move(project: Project) -> str:
            chosen = form.cleaned_data[f"to_{project.pk}"]
            to_phase = next(p for p in movable[project] if p.pk == chosen)
            transition = services.phase_move_back(
                project=project,
                to_phase=to_phase,
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
            return _moved(project, transition, "back ")

        _each(self, request, movable, move)
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
