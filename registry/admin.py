"""The model registry in the admin: read-only views of what tools logged and registered, the
deployment history, and the two things managers do here, through the services: naming a
project's production alias, and offering a version's run as the evidence of an outcome.

Every row belongs to a project, a project's registry setting too; a manager sees and acts on
those of the projects they manage (``phases.admin.common.ManagedProjectsMixin``)."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from experiments.admin import KeyValueInline
from mlprojects.exceptions import DomainError
from phases.admin.common import (
    ACTION_PAGE,
    ManagedProjectsMixin,
    ReadOnlyInline,
    ReadOnlyMixin,
)
from phases.models import Outcome
from registry import services, validation
from registry.models import (
    DeploymentEvent,
    LoggedModel,
    LoggedModelParam,
    LoggedModelTag,
    ModelAlias,
    ModelVersion,
    RegisteredModel,
    RegistrySettings,
)


class RegistrySettingsForm(forms.ModelForm):
    class Meta:
        model = RegistrySettings
        fields = ["project", "production_alias"]

    def clean_production_alias(self):
        alias = self.cleaned_data["production_alias"]
        try:
            validation.check_alias(alias)
            validation.check_alias_not_reserved(alias)
        except DomainError as refused:
            raise forms.ValidationError(refused.message) from refused
        return alias


@admin.register(RegistrySettings)
class RegistrySettingsAdmin(ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    form = RegistrySettingsForm
    list_display = ["project", "production_alias"]
    list_select_related = ["project"]

    def get_readonly_fields(self, request, obj=None):
        """A setting stays with its project; another project's alias is another row."""
        return ["project"] if obj is not None else []

    def save_model(self, request, obj, form, change) -> None:
        services.production_alias_update(
            project=obj.project, alias=obj.production_alias, by=request.user
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LoggedModelTagInline(KeyValueInline):
    model = LoggedModelTag


class LoggedModelParamInline(KeyValueInline):
    model = LoggedModelParam


@admin.register(LoggedModel)
class LoggedModelAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "experiment__project"
    list_display = ["name", "model_id", "experiment", "source_run", "status", "lifecycle_stage"]
    list_filter = ["status", "lifecycle_stage"]
    search_fields = ["name", "model_id"]
    inlines = [LoggedModelParamInline, LoggedModelTagInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("experiment", "source_run")


class ModelVersionInline(ReadOnlyInline):
    model = ModelVersion
    fields = ["version", "current_stage", "run", "logged_model", "source", "user_id"]
    show_change_link = True


class ModelAliasInline(ReadOnlyInline):
    model = ModelAlias
    fields = ["alias", "model_version", "set_by", "set_at"]


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    list_display = ["name", "project", "last_version"]
    list_filter = ["project"]
    search_fields = ["name", "project__name"]
    inlines = [ModelAliasInline, ModelVersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project")


class EvidenceForm(forms.Form):
    outcome = forms.ModelChoiceField(queryset=Outcome.objects.none())
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "registered_model__project"
    list_display = ["registered_model", "version", "current_stage", "run", "logged_model"]
    list_filter = ["current_stage", "registered_model__project"]
    search_fields = ["registered_model__name"]
    actions = ["offer_as_evidence"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("registered_model__project", "run", "logged_model")
        )

    @admin.action(description="Offer the selected versions' runs as evidence of an outcome")
    def offer_as_evidence(self, request, queryset):
        """The manager's word: the version's run is the evidence of, typically, "a model good
        enough for production". The outcome is chosen on the confirmation page."""
        projects = {version.registered_model.project_id for version in queryset}
        form = EvidenceForm(request.POST if "post" in request.POST else None)
        form.fields["outcome"].queryset = Outcome.objects.filter(
            phase__project_id__in=projects
        ).select_related("phase__project")
        if form.is_valid():
            for version in queryset:
                try:
                    services.version_offer_as_evidence(
                        version=version,
                        outcome=form.cleaned_data["outcome"],
                        by=request.user,
                        note=form.cleaned_data["note"],
                    )
                except DomainError as refused:
                    self.message_user(request, refused.message, messages.ERROR)
                    return None
            self.message_user(request, "Linked as evidence.", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            ACTION_PAGE,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Offer as evidence",
                "intro": "The run of each of these versions becomes evidence of the outcome:",
                "objects": queryset,
                "form": form,
                "action": "offer_as_evidence",
                "submit": "Link as evidence",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(DeploymentEvent)
class DeploymentEventAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    list_display = ["created_at", "project", "model_name", "kind", "version", "previous_version"]
    list_filter = ["kind", "project"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project")
