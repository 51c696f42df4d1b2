"""What every page of the lifecycle admin shares: service refusals as messages, the page of
an action that needs input, inline rows written through services, phase-name filters, and
read-only pages for what only the services write (``experiments.admin`` uses them too)."""

from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Min
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from mlprojects.exceptions import DomainError
from phases import services
from phases.models import Phase, Transition

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
