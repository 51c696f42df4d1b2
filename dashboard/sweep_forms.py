"""The forms that start a sweep from the dashboard, and add the dataset it runs on. They hold
the JSON types; the rules are ``experiments.sweeps``' own, and their refusals come back on
the field they name."""

import json

from django import forms

from dashboard.forms import DomainForm
from experiments.choices import Pruner, Strategy
from experiments.sweeps import BUILTIN_DATASETS, FAMILIES


def family_choices() -> list[tuple[str, str]]:
    """Every family of the allowlist once, named with the tasks it serves."""
    labels: dict[str, tuple[str, list[str]]] = {}
    for task, families in FAMILIES.items():
        for key, family in families.items():
            labels.setdefault(key, (family.label, []))[1].append(str(task))
    return [
        (key, label if len(tasks) > 1 else f"{label} ({tasks[0]} only)")
        for key, (label, tasks) in labels.items()
    ]


class DatasetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} — {obj.rows:,} rows, target {obj.target} ({obj.task})"


class BuiltinDatasetForm(DomainForm):
    """One of scikit-learn's datasets, named by its key."""

    refused_on = {"name": "builtin"}
    builtin = forms.ChoiceField(
        label="Built-in dataset",
        widget=forms.RadioSelect,
        choices=[(key, description) for key, (_, _, description) in BUILTIN_DATASETS.items()],
    )

    def dataset(self) -> dict:
        """The fields as ``dataset_create`` takes them."""
        return {"name": self.cleaned_data["builtin"], "builtin": self.cleaned_data["builtin"]}


class UploadDatasetForm(DomainForm):
    """A CSV file of the contributor's own, with the column a sweep learns to predict."""

    prefix = "upload"  # on the page of the sweep's form, which has a name too
    name = forms.CharField(label="Dataset name")
    file = forms.FileField(
        label="CSV file",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="A header row, then at least 10 rows.",
    )
    target = forms.CharField(
        label="Target column",
        help_text="The column to predict; classification or regression follows from its values.",
    )

    def dataset(self) -> dict:
        """The fields as ``dataset_create`` takes them."""
        return dict(self.cleaned_data)


class SweepForm(DomainForm):
    name = forms.CharField(label="Name", max_length=200)
    dataset = DatasetChoiceField(label="Dataset", queryset=None, empty_label=None)
    families = forms.MultipleChoiceField(
        label="Estimator families",
        widget=forms.CheckboxSelectMultiple,
        help_text="Each searches its own hyperparameters; the task comes from the dataset.",
    )
    strategy = forms.ChoiceField(label="Search strategy", choices=Strategy.choices)
    pruner = forms.ChoiceField(label="Pruning", choices=Pruner.choices)
    max_trials = forms.IntegerField(label="Trials", min_value=1, initial=20)
    max_seconds = forms.IntegerField(
        label="Wall-time budget (seconds)",
        min_value=1,
        required=False,
        help_text="Optional; the sweep stops at whichever budget runs out first.",
    )
    folds = forms.IntegerField(label="Cross-validation folds", min_value=2, initial=3)
    seed = forms.IntegerField(label="Seed", min_value=0, initial=0)
    space = forms.CharField(
        label="Search space (JSON, optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text='family → param → range, for example {"svm": {"C": {"type": "log_float", '
        '"low": 0.01, "high": 100}}}. A family left out searches its default space.',
    )

    def __init__(self, *args, datasets, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = datasets
        self.fields["families"].choices = family_choices()
        self.initial.setdefault("strategy", Strategy.TPE)
        self.initial.setdefault("pruner", Pruner.MEDIAN)

    def clean_space(self):
        text = self.cleaned_data["space"].strip()
        if not text:
            return None
        try:
            space = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"is not JSON: {error}") from error
        if not isinstance(space, dict):
            raise forms.ValidationError("must be a JSON object: family → param → range")
        return space

    def spec(self) -> dict:
        """The validated fields as ``sweep_create`` takes them (defaults left to it)."""
        data = dict(self.cleaned_data)
        data["dataset"] = data["dataset"].pk
        return {key: value for key, value in data.items() if value is not None}

    @staticmethod
    def prefill(spec: dict) -> dict:
        """A spec (``sweep_spec_from_run``) as the form's initial values."""
        initial = {
            key: spec[key]
            for key in ("name", "dataset", "families", "strategy", "pruner", "max_trials", "folds")
            if spec.get(key) is not None
        }
        if "seed" in spec:
            initial["seed"] = spec["seed"]
        if spec.get("space"):
            initial["space"] = json.dumps(spec["space"], indent=1)
        return initial
