"""The dashboard's forms: they validate input and hand plain values to selectors and services."""

import datetime as dt

from django import forms
from django.db.models import QuerySet

from dashboard.selectors import FilterChoices, PortfolioFilters
from phases.choices import Health
from phases.selectors import reopened_due


class PortfolioFilterForm(forms.Form):
    """GET filters of the portfolio; choices are only values the caller's projects have."""

    lifecycle = forms.ChoiceField(label="Lifecycle", required=False)
    phase = forms.ChoiceField(label="Phase", required=False)
    health = forms.ChoiceField(
        label="Health", required=False, choices=[("", "Any health"), *Health.choices]
    )
    owner = forms.TypedChoiceField(label="Owner", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, choices: FilterChoices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lifecycle"].choices = [("", "Any lifecycle"), *choices.lifecycles]
        self.fields["phase"].choices = [("", "Any phase"), *((p, p) for p in choices.phases)]
        self.fields["owner"].choices = [("", "Anyone"), *choices.owners]

    def filters(self) -> PortfolioFilters:
        """The filters that validated; a stale or tampered value is dropped, not fatal."""
        self.is_valid()
        data = self.cleaned_data
        return PortfolioFilters(
            phase=data.get("phase") or "",
            health=data.get("health") or "",
            owner=data.get("owner"),
            lifecycle=data.get("lifecycle") or "",
        )

    @property
    def active(self) -> bool:
        return self.filters() != PortfolioFilters()


class PhaseChoiceField(forms.ModelChoiceField):
    """A phase by name, with the due date a loop back gives it unless another is chosen."""

    def __init__(self, *args, today: dt.date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def label_from_instance(self, obj) -> str:
        if self.today is None:
            return obj.name
        due = reopened_due(phase=obj, today=self.today)
        return f"{obj.name} (due {due.day} {due:%b %Y} unless you pick a date)"


class DateInput(forms.DateInput):
    input_type = "date"


class MoveBackForm(forms.Form):
    to_phase = PhaseChoiceField(label="Move back to", queryset=None, empty_label=None)
    due_date = forms.DateField(
        label="New due date of the reopened phase",
        required=False,
        widget=DateInput,
        help_text="Leave blank to give it as many days as it was planned to take, from today. "
        "The later phases slip by as much.",
    )
    reason = forms.CharField(
        label="Why",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the history and shown to everyone who follows the project.",
    )

    def __init__(self, *args, targets: QuerySet, today: dt.date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_phase"].queryset = targets
        self.fields["to_phase"].today = today


class RejectOutcomeForm(forms.Form):
    note = forms.CharField(
        label="What is missing",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The team reads it on the outcome and in the gate.",
    )


class SharedLinkForm(forms.Form):
    EXPIRY_CHOICES = [("", "Never (until revoked)"), (7, "In 7 days"), (30, "In 30 days")]

    label = forms.CharField(
        label="Who is it for?",
        max_length=100,
        required=False,
        help_text="For example “Steering committee”; only managers see it.",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False
    )

    def expires_at(self, now: dt.datetime) -> dt.datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        return now + dt.timedelta(days=days) if days else None
