"""The dashboard's forms: they validate input and hand plain values to selectors and services."""

import datetime as dt

from django import forms
from django.db.models import QuerySet

from dashboard.selectors import FilterChoices, PortfolioFilters, RunChoices, RunQuery
from experiments.choices import RunStatus
from experiments.search import parse_filter, parse_order_by
from mlprojects.exceptions import DomainError
from phases.choices import Health
from phases.selectors import reopened_due


class PortfolioFilterForm(forms.Form):
    """GET filters of the portfolio; choices are only values the caller's projects have."""

    lifecycle = forms.ChoiceField(label="Lifecycle", required=False)
    phase = forms.ChoiceField(label="Phase", required=False)
    health = forms.MultipleChoiceField(
        label="Health",
        required=False,
        choices=Health.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any health.",
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
        if "health" not in data:
            # One unknown value fails the whole field: keep the known ones.
            known = dict(Health.choices)
            given = self.data.getlist("health") if hasattr(self.data, "getlist") else []
            data["health"] = [value for value in given if value in known]
        return PortfolioFilters(
            phase=data.get("phase") or "",
            health=tuple(sorted(data.get("health") or ())),
            owner=data.get("owner"),
            lifecycle=data.get("lifecycle") or "",
        )

    @property
    def active(self) -> bool:
        return self.filters() != PortfolioFilters()


class RunSearchForm(forms.Form):
    """The run list's search: MLflow's filter grammar, parsed by the search the MLflow API
    uses (``experiments.search``), so the box accepts exactly what ``runs/search`` does."""

    filter = forms.CharField(
        label="Search runs",
        required=False,
        max_length=1000,
        widget=forms.TextInput(
            attrs={
                "placeholder": "metrics.val_auc > 0.8 and params.model = 'lgbm'",
                "spellcheck": "false",
                "autocomplete": "off",
            }
        ),
        help_text=(
            "MLflow's filter syntax: metrics.<key>, params.<key>, tags.<key> or attributes "
            "(status, run_name, start_time) compared with =, !=, <, >, LIKE, joined by and."
        ),
    )
    experiment = forms.TypedChoiceField(
        label="Experiment", required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *RunStatus.choices]
    )
    order = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)
    cols = forms.MultipleChoiceField(
        label="Columns", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, choices: RunChoices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["experiment"].choices = [("", "Every experiment"), *choices.experiments]
        self.fields["cols"].choices = [(name, name) for name in choices.columns]

    def _parsed(self, name: str, parse) -> str:
        value = self.cleaned_data[name]
        try:
            parse(value)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from exc
        return value

    def clean_filter(self) -> str:
        return self._parsed("filter", parse_filter)

    def clean_order(self) -> str:
        return self._parsed("order", lambda value: parse_order_by([value]) if value else None)

    def query(self) -> RunQuery | None:
        """What to list; ``None`` when the search or the order does not parse (the form's
        errors say why). A stale experiment, status or column is dropped, not fatal."""
        valid = self.is_valid()
        if not valid and ({"filter", "order"} & set(self.errors)):
            return None
        data = self.cleaned_data
        if "cols" not in data:
            offered = {value for value, _ in self.fields["cols"].choices}
            given = self.data.getlist("cols") if hasattr(self.data, "getlist") else []
            data["cols"] = [value for value in given if value in offered]
        return RunQuery(
            filter=data.get("filter", ""),
            experiment=data.get("experiment"),
            status=data.get("status") or "",
            order=data.get("order", ""),
            columns=tuple(data["cols"]),
        )


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


class DomainForm(forms.Form):
    """A form whose domain refusal (``DomainError``) comes back on the field it names, and
    whose page, sent back with an error, opens at the first field in error: the browser
    focuses and scrolls to it, wherever the form sits on a long page."""

    # A domain field this form asks under another (a built-in's key is its dataset's name).
    refused_on: dict[str, str] = {}

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        names = [field] if field else []
        if isinstance(error, dict):
            names = list(error)
        for name in names:
            if name in self.fields:
                self.fields[name].widget.attrs["autofocus"] = True

    def errors_in_words(self) -> str:
        """The errors as the one message a page without the form can show, each after
        its field's label: "New due date: Enter a valid date." """
        return " ".join(
            f"{self.fields[name].label}: {' '.join(errors)}" if name in self.fields
            else " ".join(errors)
            for name, errors in self.errors.items()
        )  # fmt: skip

    def refused(self, error: DomainError) -> None:
        """The domain's refusal on the field it names (``space.svm.C`` on the space)."""
        if not error.fields:
            self.add_error(None, error.message)
        for name, rules in error.fields.items():
            field = self.refused_on.get(name, name.split(".")[0])
            for rule in rules:
                text = rule if field == name else f"{name}: {rule}"
                self.add_error(field if field in self.fields else None, text)


class MoveBackForm(DomainForm):
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


class AlertMoveBackForm(DomainForm):
    """What a manager may add to a move back from an alert: the alert is the reason."""

    due_date = forms.DateField(label="New due date", required=False, widget=DateInput)
    note = forms.CharField(label="Add to the reason", max_length=2000, required=False)


class RejectOutcomeForm(DomainForm):
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
