"""What every page of the lifecycle admin shares: service refusals as messages, the page of
an action that needs input, inline rows written through services, phase-name filters, and
read-only pages for what only the services write (``experiments.admin`` uses them too)."""

from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Min, Model, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from mlprojects.exceptions import DomainError
from phases import services
from phases.models import Phase, Project, Transition
from phases.roles import managed_projects

admin.site.site_header = "mlprojects administration"
admin.site.site_title = "mlprojects administration"

ACTION_PAGE = "admin/phases/action_form.html"


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
        names = Phase.objects.filter(project__in=managed_ids(request))
        names = names.values("name").annotate(first=Min("order")).order_by("first", "name")
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


def _each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    objects: Iterable[object],
    act: Callable[[object], str],
) -> None:
    """Run an action's service on each selected object, one message each: what ``act``
    says was done, or the refusal, so one refused project does not stop the others."""
    for obj in objects:
        try:
            done = act(obj)
        except DomainError as error:
            model_admin.message_user(request, _refusal(error, obj), messages.ERROR)
        else:
            model_admin.message_user(request, done, messages.SUCCESS)


def _moved(project: object, transition: object, how: str = "") -> str:
    return (
        f"“{project}” moved {how}from {transition.from_phase.name} to {transition.to_phase.name}."
    )


class ReadOnlyMixin:
    """For rows that only services write (history, what tools logged): shown, never edited."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TransitionColumns:
    """A transition's phases by name, in the history list and on the project page alike."""

    @admin.display(description="from", ordering="from_phase__order")
    def from_name(self, transition: Transition) -> str:
        return transition.from_phase.name if transition.from_phase else "—"

    @admin.display(description="to", ordering="to_phase__order")
    def to_name(self, transition: Transition) -> str:
        return transition.to_phase.name


# --- Who sees what: a manager sees the projects they manage -------------------------------


def managed_ids(request: HttpRequest) -> frozenset[int]:
    """The ids of the projects the caller manages (all, for a superuser), read once a request."""
    found = getattr(request, "_managed_project_ids", None)
    if found is None:
        found = frozenset(managed_projects(request.user).values_list("pk", flat=True))
        request._managed_project_ids = found
    return found


def id_along(obj: Model, path: str) -> int | None:
    """The id at the end of ``path`` (Django's lookup syntax) from ``obj``: the project of a
    row, read through what is already loaded; None where the row has none."""
    if not path:
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        # A missing reverse one-to-one raises an AttributeError, which ``getattr`` absorbs.
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


def _project_id(obj: Model) -> int | None:
    """The project of a project, or of anything with ``project_id`` or a phase."""
    if isinstance(obj, Project):
        return obj.pk
    if hasattr(obj, "project_id"):
        return obj.project_id
    return obj.phase.project_id


def manages(request: HttpRequest, obj: Model | None = None, *, path: str | None = None) -> bool:
    """Whether the caller may manage ``obj``'s project in the admin (any project without one).

    The superuser manages everything, as Django's own permissions say; anyone else with the
    staff flag manages the projects where they have the manager role, and nothing else, so
    the admin obeys ``phases.roles`` as the API and the dashboard do. ``path`` leads from
    ``obj`` to its project; a row without a project is nobody's but the superuser's.
    """
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    ids = managed_ids(request)
    if obj is None:
        return bool(ids)
    return (_project_id(obj) if path is None else id_along(obj, path)) in ids


class ManagedProjectsMixin:
    """The one rule of the admin for every row that belongs to a project: a manager (staff,
    not superuser) lists, opens and changes the rows of the projects they manage, and
    nothing else; the superuser everything, as Django's permissions decide it.

    ``project_path`` leads from the model to its project (empty for projects). Rows whose
    ``owner_path`` leads to the caller are theirs too (their own API tokens). The rule also
    scopes what a page offers: foreign-key choices and autocompletes (through the related
    model's admin, when that admin follows this rule) and the relation filters of the list
    (only what the listed rows point to). Deleting stays a superuser's: managers switch
    things off (monitors, channels), revoke (tokens) or reject (outcomes), and the records
    stay."""

    project_path = ""
    owner_path = ""

    def scope(self, queryset: QuerySet, request: HttpRequest) -> QuerySet:
        if request.user.is_superuser:
            return queryset
        rule = Q(**{f"{self.project_path or 'pk'}__in": managed_ids(request)})
        if self.owner_path:
            rule |= Q(**{self.owner_path: request.user.pk})
        return queryset.filter(rule)

    def get_queryset(self, request):
        return self.scope(super().get_queryset(request), request)

    def _manages(self, request: HttpRequest, obj: Model | None = None) -> bool:
        owned = obj is not None and self.owner_path and manages(request)
        if owned and id_along(obj, self.owner_path) == request.user.pk:
            return True
        return manages(request, obj, path=self.project_path)

    def has_module_permission(self, request) -> bool:
        return manages(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._manages(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self._manages(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        if request.user.is_superuser:
            return super().has_add_permission(request, *args)
        return self._manages(request, *args[:1])

    def has_delete_permission(self, request, obj=None) -> bool:
        if request.user.is_superuser:
            return super().has_delete_permission(request, obj)
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A choice of a related row offers only those the caller may see in its admin, so
        a form cannot attach a row to another project; autocompletes ask that admin too."""
        remote = self.admin_site._registry.get(db_field.related_model)
        if "queryset" not in kwargs and isinstance(remote, ManagedProjectsMixin):
            queryset = self.get_field_queryset(None, db_field, request)
            if queryset is None:
                queryset = db_field.related_model._default_manager.all()
            kwargs["queryset"] = remote.scope(queryset, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        """A filter on a relation lists only what the rows shown point to: Django's plain
        one would name every project (or deployment, or monitor) in the database."""
        return [self._related_only(entry) for entry in super().get_list_filter(request)]

    def _related_only(self, entry):
        if isinstance(entry, str) and get_fields_from_path(self.model, entry)[-1].is_relation:
            return (entry, admin.RelatedOnlyFieldListFilter)
        return entry


class ManagedInlineMixin:
    """An inline is seen by whoever may see the row it belongs to, as its admin decides:
    managers have no model permissions of Django's, and would otherwise see no inline."""

    def has_view_permission(self, request, obj=None) -> bool:
        return self.admin_site._registry[self.parent_model].has_view_permission(request, obj)


class ReadOnlyInline(ManagedInlineMixin, ReadOnlyMixin, admin.TabularInline):
    """The rows under the one on the page that only services write (what tools logged, a
    deployment's reference, delivery attempts): seen by whoever sees that row, never edited."""

    extra = 0


class SuperuserOnlyMixin:
    """For what no project owns and a manager must not touch: people and their permissions,
    sign-in lockouts, and the beat schedules (a periodic task may run any task with any
    arguments, and one interval row serves many tasks). Deny unless superuser, whatever
    model permissions a staff user was given."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return self.has_module_permission(request) and super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request) and super().has_delete_permission(request, obj)


def superuser_only(*models: type[Model]) -> None:
    """Register the admins of ``models`` again, unchanged but for ``SuperuserOnlyMixin``."""
    for model in models:
        current = type(admin.site._registry[model])
        admin.site.unregister(model)
        admin.site.register(model, type(current.__name__, (SuperuserOnlyMixin, current), {}))


def person_name(user) -> str:
    """How the admin names a person: their full name, with the username to tell two apart."""
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_name(obj)


class PersonSelect(AutocompleteSelect):
    """Django's autocomplete box, asking ``url`` (the project admin's people search, which
    a manager may use without rights on the user admin) instead of the admin's own.

    The people already chosen on the page are read in one query for all its rows, not one
    per row: every copy of the widget (one a row) shares ``known``."""

    def __init__(self, field, admin_site, *, url: str, **kwargs) -> None:
        super().__init__(field, admin_site, **kwargs)
        self.url = url
        self.known: dict[str, object] = {}

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.known = self.known
        return copy

    def get_url(self) -> str:
        return self.url

    def optgroups(self, name, value, attr=None):
        chosen = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        if chosen and not set(chosen) <= self.known.keys():
            # Everyone the page can show at once: the project's members, and the chosen.
            wanted = Q(pk__in=chosen)
            if self.preload is not None:
                wanted |= Q(pk__in=self.preload)
            people = self.choices.queryset.filter(wanted)
            self.known.update({str(person.pk): person for person in people})
        for index, pk in enumerate(chosen, start=len(options)):
            person = self.known.get(pk)
            if person is not None:
                label = self.choices.field.label_from_instance(person)
                options.append(self.create_option(name, pk, label, True, index))
        return [(None, options, 0)]

    preload: QuerySet | None = None


class NameOnly(forms.Widget):
    """A fixed person shown by name, in place of a disabled picker that would ask the
    database for the name once a row."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        return format_html("<span>{}</span>", self.name)
