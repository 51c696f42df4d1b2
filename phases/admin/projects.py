"""Projects with their members, phases, tasks, outcomes and history; the lifecycle actions."""

import nested_admin
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from phases import services
from phases.admin.common import (
    CurrentPhaseFilter,
    ManagedProjectsMixin,
    _action_page,
    _changes,
    _each,
    _moved,
    _ServiceWritesAdmin,
    _write_rows,
    manages,
    person_name,
)
from phases.admin.inlines import (
    PEOPLE_PAGE,
    MembershipInline,
    OtherPhaseInline,
    PhaseInline,
    ProjectAddForm,
    TransitionInline,
    person_field,
)
from phases.models import (
    LifecycleTemplate,
    Membership,
    Outcome,
    Phase,
    PhaseTemplate,
    Project,
    Task,
)
from phases.selectors import back_targets_of, phase_gate

# --- Projects ---------------------------------------------------------------------------


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
            self.fields[f"due_{project.pk}"] = forms.DateField(
                label=f"{project}: new due date",
                required=False,
                widget=AdminDateWidget,
                help_text="Blank: the reopened phase gets as many days as it was planned to "
                "take, from today; the later phases slip as much.",
            )
        self.fields["reason"] = forms.CharField(
            widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
            help_text="Recorded with every move; reopened outcomes carry it in their note.",
        )


@admin.register(Project)
class ProjectAdmin(ManagedProjectsMixin, _ServiceWritesAdmin, nested_admin.NestedModelAdmin):
    """A superuser sees every project; a manager with the staff flag, the ones they manage."""

    list_display = [
        "name",
        "lifecycle",
        "current_phase_name",
        "health_badge",
        "health_why",
        "owner_name",
    ]
    list_filter = [
        CurrentPhaseFilter,
        "health",
        ("owner", admin.RelatedOnlyFieldListFilter),
        "lifecycle",
    ]
    list_select_related = ["lifecycle", "current_phase", "owner"]
    search_fields = ["name", "slug", "description", "owner__username", "owner__last_name"]
    actions = ["advance", "move_back", "complete", "refresh_health"]
    inlines = [MembershipInline, PhaseInline, OtherPhaseInline, TransitionInline]

    class Media:
        css = {"all": ["css/admin.css"]}

    success_fields = [
        "success_metric",
        "success_metric_label",
        "success_target",
        "success_direction",
    ]
    # Where the project stands and when it was written: shown, never edited here.
    progress_fields = [
        "current_phase_name",
        "completed_at",
        "planned_finish",
        "gate_checklist",
        "health_badge",
        "health_reasons_list",
        "health_checked_at",
    ]
    record_fields = ["created_at", "updated_at"]
    add_fieldsets = (
        (None, {"fields": ["name", "slug", "description", "owner", "lifecycle", "start_date"]}),
        ("Success", {"fields": success_fields}),
    )
    fieldsets = (
        (None, {"fields": ["name", "slug", "description", "owner_name", "lifecycle"]}),
        ("Success", {"fields": success_fields}),
        ("Progress", {"fields": progress_fields}),
        ("Record", {"fields": record_fields, "classes": ["collapse"]}),
    )
    readonly_fields = ["slug", "owner_name", "lifecycle", *progress_fields, *record_fields]

    # --- Columns and read-only fields ---

    @admin.display(description="current phase", ordering="current_phase__order")
    def current_phase_name(self, project: Project) -> str:
        if project.current_phase is None:
            return "—"
        done = " (completed)" if project.completed_at else ""
        return f"{project.current_phase.name}{done}"

    @admin.display(description="owner", ordering="owner__last_name")
    def owner_name(self, project: Project) -> str:
        return person_name(project.owner)

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
        if obj is not None:
            return super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return self.add_fieldsets
        # A manager's new project is their own: they cannot hand it to someone else.
        first, success = self.add_fieldsets
        fields = [name for name in first[1]["fields"] if name != "owner"]
        return ((None, {"fields": fields}), success)

    def get_urls(self):
        people = path(
            "people/",
            self.admin_site.admin_view(self.people_view),
            name="phases_project_people",
        )
        return [people, *super().get_urls()]

    def people_view(self, request):
        """The people pickers' search, in the answer Django's autocomplete expects: the
        members of ``project`` (one the caller manages), or anyone active without it."""
        project_id = request.GET.get("project", "")
        if not manages(request) or (project_id and not project_id.isdigit()):
            raise PermissionDenied
        people = get_user_model().objects.filter(is_active=True)
        if project_id:
            if not manages(request, Project(pk=int(project_id))):
                raise PermissionDenied
            people = people.filter(memberships__project_id=int(project_id))
        term = request.GET.get("term", "").strip()
        for word in term.split()[:4]:
            people = people.filter(
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
            )
        page = Paginator(people.order_by("first_name", "last_name", "pk"), PEOPLE_PAGE).get_page(
            request.GET.get("page")
        )
        return JsonResponse(
            {
                "results": [{"id": str(p.pk), "text": person_name(p)} for p in page],
                "pagination": {"more": page.has_next()},
            }
        )

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
        if db_field.name == "owner":
            return person_field(self, db_field, request, kwargs, members_only=False)
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
            owner=data.get("owner") or request.user,
            by=request.user,
            slug=data["slug"],
            description=data["description"],
            success_metric=data["success_metric"],
            success_metric_label=data["success_metric_label"],
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
                due_date=form.cleaned_data[f"due_{project.pk}"],
            )
            return _moved(project, transition, "back ") + (
                f" {to_phase.name} is now due {transition.to_phase.due_date:%Y-%m-%d}."
            )

        _each(self, request, movable, move)
        return None

    @admin.action(description="Complete the project (at its last phase)", permissions=["change"])
    def complete(self, request, queryset: QuerySet[Project]) -> None:
        def finish(project: Project) -> str:
            services.project_complete(project=project, by=request.user)
            return f"“{project}” is completed."

        _each(self, request, queryset, finish)

    @admin.action(description="Recompute health", permissions=["change"])
    def refresh_health(self, request, queryset: QuerySet[Project]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        changed = services.project_health_refresh(project_ids=ids)
        self.message_user(
            request,
            f"Health recomputed for {len(ids)} project(s); {changed} changed.",
            messages.SUCCESS,
        )
