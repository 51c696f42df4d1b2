"""The admin of production monitoring: monitors and their schedules, results, alerts,
channels and the notification outbox.

Writes that matter go through ``monitoring.services``: a monitor is added with its beat
schedule by ``monitor_create``, alerts change state through the acknowledge and resolve
actions, channels are made by ``channel_create`` (which checks the address and makes the
webhook secret). Results, notifications and delivery attempts are records: read-only.

Every row belongs to a project; a manager sees and acts on those of the projects they manage
(``phases.admin.common.ManagedProjectsMixin``). A monitor's schedule is django-celery-beat's
periodic task: its manager sets how often it runs ("every") on the monitor's own page, while
the periodic task admin, which can run any task with any arguments, is the superuser's.
"""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from mlprojects.exceptions import DomainError
from monitoring import services
from monitoring.models import (
    Alert,
    Channel,
    DeliveryAttempt,
    Deployment,
    Monitor,
    Notification,
    ReferenceColumn,
    Result,
)
from phases.admin.common import ManagedProjectsMixin, ReadOnlyInline, ReadOnlyMixin


class _ReadOnly:
    """Rows only the services write, which the superuser may still delete
    (``ManagedProjectsMixin``); records no one deletes are ``ReadOnlyMixin``'s."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class _AddedByService:
    """Adding a row calls ``create``, a service that checks and writes more than the form's
    row (a monitor's schedule, a channel's secret); a change saves as Django does. The admin
    goes on with ``obj`` (history log, redirect), so it takes the new row's id."""

    def create(self, request, data: dict):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            obj.pk = self.create(request, form.cleaned_data).pk


class ReferenceColumnInline(ReadOnlyInline):
    model = ReferenceColumn
    fields = ("position", "name", "role", "kind", "stats")


@admin.register(Deployment)
class DeploymentAdmin(_ReadOnly, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    list_display = ("name", "project", "started_at", "ended_at", "reference_rows")
    list_filter = ("project",)
    list_select_related = ("project",)
    inlines = [ReferenceColumnInline]


class _MonitorForm(forms.ModelForm):
    every = forms.DurationField(
        required=False, help_text="How often beat runs it (default: the window). HH:MM:SS."
    )

    def clean_every(self) -> dt.timedelta | None:
        every = self.cleaned_data["every"]
        if every is not None and every < dt.timedelta(seconds=1):
            raise forms.ValidationError("Must be at least a second.")
        return every

    def clean(self):
        """The config must suit the monitor's kind (chosen on the add page, fixed after)."""
        data = super().clean()
        kind = data.get("kind") or self.instance.kind
        if kind:
            try:
                services.monitor_config_check(kind, data.get("config") or {})
            except DomainError as error:
                self.add_error("config", error.message)
        return data


class MonitorAddForm(_MonitorForm):
    class Meta:
        model = Monitor
        fields = (
            "project",
            "kind",
            "name",
            "window",
            "every",
            "config",
            "for_duration",
            "repeat_interval",
            "enabled",
        )


class MonitorChangeForm(_MonitorForm):
    class Meta:
        model = Monitor
        fields = ("name", "window", "config", "for_duration", "repeat_interval", "enabled")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        every = self.fields["every"]
        every.help_text = "How often beat runs it. HH:MM:SS. Blank keeps the schedule as it is."
        interval = self.instance.schedule.interval if self.instance.schedule_id else None
        if interval is not None:
            every.initial = dt.timedelta(**{interval.period: interval.every})


@admin.register(Monitor)
class MonitorAdmin(_AddedByService, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    list_display = ("name", "project", "kind", "window", "schedule_link", "enabled", "last_run_at")
    list_filter = ("kind", "enabled", "project")
    search_fields = ("name", "project__name")
    readonly_fields = ("deployment", "baseline_at", "schedule_link", "last_run_at")

    def get_queryset(self, request):
        """The project and the schedule show in every row and on the page: read with the
        monitor (here, since the list ignores ``list_select_related`` once this selects)."""
        return super().get_queryset(request).select_related("project", "schedule__interval")

    def get_list_display(self, request):
        return self._schedule_column(request, super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fields = (*self.readonly_fields, "project", "kind")
        return self._schedule_column(request, fields)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MonitorAddForm if obj is None else MonitorChangeForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return MonitorAddForm.Meta.fields
        fields = (
            "project",
            "kind",
            "name",
            "deployment",
            "baseline_at",
            "window",
            "every",
            "config",
            "for_duration",
            "repeat_interval",
            "enabled",
            "schedule_link",
            "last_run_at",
        )
        return self._schedule_column(request, fields)

    @staticmethod
    def _schedule_column(request, fields) -> tuple:
        """The superuser follows the schedule to its periodic task; a manager, who may not
        open that page, reads it in words and sets it here."""
        if request.user.is_superuser:
            return tuple(fields)
        return tuple("schedule_every" if name == "schedule_link" else name for name in fields)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            services.monitor_schedule_follow(obj, every=form.cleaned_data.get("every"))

    def create(self, request, data: dict) -> Monitor:
        return services.monitor_create(
            project=data["project"],
            kind=data["kind"],
            name=data["name"],
            by=request.user,
            window=data["window"],
            every=data.get("every"),
            config=data.get("config") or {},
            for_duration=data.get("for_duration") or dt.timedelta(0),
            repeat_interval=data.get("repeat_interval"),
            enabled=data.get("enabled", True),
        )

    @admin.display(description="schedule")
    def schedule_link(self, monitor: Monitor) -> SafeString | str:
        if monitor.schedule_id is None:
            return "—"
        url = reverse("admin:django_celery_beat_periodictask_change", args=[monitor.schedule_id])
        return format_html('<a href="{}">{}</a>', url, monitor.schedule.interval or "edit")

    @admin.display(description="schedule")
    def schedule_every(self, monitor: Monitor) -> str:
        if monitor.schedule_id is None:
            return "—"
        return str(monitor.schedule.interval or monitor.schedule.scheduler or "—")

    actions = ["run_now"]

    @admin.action(description="Run now (on the last whole window)", permissions=["change"])
    def run_now(self, request, queryset: QuerySet[Monitor]) -> None:
        for monitor in queryset:
            result = services.monitor_run(monitor_id=monitor.pk)
            if result is not None:
                self.message_user(
                    request, f"{monitor.name}: {result.get_status_display()} — {result.summary}"
                )


@admin.register(Result)
class ResultAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "monitor__project"
    list_display = ("monitor", "window_start", "window_end", "status", "value", "summary")
    list_filter = ("status", "monitor__kind")
    list_select_related = ("monitor__project",)
    date_hierarchy = "window_start"


@admin.register(Alert)
class AlertAdmin(ReadOnlyMixin, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "monitor__project"
    list_display = ("monitor", "state", "started_at", "fired_at", "resolved_at", "acknowledged_at")
    list_filter = ("state", "monitor__kind")
    list_select_related = ("monitor__project",)
    actions = ["acknowledge", "resolve"]

    def _each(self, request, queryset, verb, call) -> None:
        done = 0
        for alert in queryset:
            try:
                call(alert)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{alert}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{verb} {done} alert{'s' if done > 1 else ''}.")

    @admin.action(description="Acknowledge", permissions=["view"])
    def acknowledge(self, request, queryset: QuerySet[Alert]) -> None:
        self._each(
            request,
            queryset,
            "Acknowledged",
            lambda a: services.alert_acknowledge(alert=a, by=request.user),
        )

    @admin.action(description="Resolve", permissions=["view"])
    def resolve(self, request, queryset: QuerySet[Alert]) -> None:
        self._each(
            request,
            queryset,
            "Resolved",
            lambda a: services.alert_resolve(alert=a, by=request.user),
        )


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = ("project", "kind", "name", "address", "enabled")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("kind") and data.get("address"):
            try:
                data["address"] = services.channel_address_check(data["kind"], data["address"])
            except DomainError as error:
                self.add_error("address", error.message.removeprefix("address: "))
        return data


@admin.register(Channel)
class ChannelAdmin(_AddedByService, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    form = ChannelForm
    list_display = ("name", "project", "kind", "address", "enabled")
    list_filter = ("kind", "enabled")
    list_select_related = ("project",)

    def get_readonly_fields(self, request, obj=None):
        return ("project", "kind", "address") if obj else ()

    def create(self, request, data: dict) -> Channel:
        return services.channel_create(
            project=data["project"],
            kind=data["kind"],
            name=data["name"],
            address=data["address"],
            by=request.user,
        )


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("attempted_at", "ok", "status_code", "error", "duration_ms")


@admin.register(Notification)
class NotificationAdmin(_ReadOnly, ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "alert__monitor__project"
    list_display = ("alert", "channel", "event", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "event")
    list_select_related = ("alert__monitor__project", "channel")
    exclude = ("payload",)
    inlines = [DeliveryAttemptInline]
