"""Model cards: what a reviewer or an auditor asks about a registered version, assembled from
what the project already knows, for the version's page and as a Markdown download.

- **The problem**: the project's description and the goal of its first phase, the success
  metric and its target.
- **Training**: the run's params, latest metrics and datasets; the logged model.
- **Evaluation**: the version's value of the success metric against the target (the value
  ``registry.selectors.version_metrics`` reads: the model's own, else its run's).
- **Lineage**: version → run → sweep trial → datasets.
- **Review**: the outcomes accepted on the way and by whom, and the outcomes this version's
  run is evidence for.
- **Deployments**: every move of the production alias on this registered model.

A fixed number of queries, whatever the size of the project.
"""

import re
from dataclasses import dataclass, field

from experiments.models import Run, RunEvidence, Trial
from mlprojects.people import display_name
from phases.choices import MetricDirection, ReviewStatus
from phases.metrics import meets_target
from phases.models import Outcome, Phase
from registry import selectors
from registry.models import DeploymentEvent, ModelVersion
from registry.services.deployments import production_alias


@dataclass(frozen=True, slots=True)
class Evaluation:
    metric: str
    label: str  # what people call the metric; empty when the project gave it no label
    target: float | None
    direction: str
    value: float | None

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        maximize = MetricDirection.maximizes(self.direction)
        return meets_target(self.value, self.target, maximize=maximize)


def evaluation_of(project, metrics: dict[str, float | None]) -> Evaluation | None:
    """A version's ``metrics`` (``selectors.version_metrics``) against the project's success
    target; ``None`` for a project with no success metric."""
    if not project.success_metric:
        return None
    return Evaluation(
        metric=project.success_metric,
        label=project.success_metric_label,
        target=project.success_target,
        direction=project.success_direction,
        value=metrics.get(project.success_metric),
    )


@dataclass(frozen=True, slots=True)
class Card:
    version: ModelVersion
    project_name: str
    problem: str
    first_phase_goal: str
    evaluation: Evaluation | None
    run: Run | None
    params: dict[str, str]
    run_metrics: dict[str, float | None]
    version_metrics: dict[str, float | None]
    datasets: list[dict]
    trial: dict | None
    accepted_outcomes: list[Outcome]
    evidence_for: list[RunEvidence]
    deployments: list[DeploymentEvent]
    aliases: list[str]
    tags: dict[str, str]
    in_production: bool
    production_alias: str
    warnings: list[str] = field(default_factory=list)


def _trial_of(run: Run | None) -> dict | None:
    """The sweep trial the run came from, for the lineage: the sweep, the trial's number,
    params and value, and the sweep's dataset. The run is read with its trial, its sweep and
    the dataset joined (``model_card``), so this costs no query."""
    if run is None:
        return None
    try:
        trial = run.trial
    except Trial.DoesNotExist:
        return None
    sweep, dataset = trial.sweep, trial.sweep.dataset
    return {
        "sweep": sweep.pk,
        "sweep_name": sweep.name,
        "number": trial.number,
        "label": f"{sweep.name}, trial {trial.number}",
        "params": dict(trial.params),
        "value": trial.value,
        "objective": sweep.metrics[0] if sweep.metrics else "",
        "dataset": dataset.name,
        "dataset_source": dataset.builtin or dataset.source,
        "dataset_rows": dataset.rows,
        "dataset_target": dataset.target,
        "dataset_origin": dataset.origin.get("summary", ""),
    }


def model_card(version: ModelVersion) -> Card:
    version = (
        selectors.with_version_data(ModelVersion.objects.filter(pk=version.pk))
        .select_related("registered_model__project", "created_by")
        .get()
    )
    registered_model = version.registered_model
    project = registered_model.project
    run = None
    if version.run_id is not None:
        run = (
            Run.objects.filter(pk=version.run_id)
            .select_related("experiment", "trial__sweep__dataset")
            .prefetch_related("params", "metric_series", "inputs")
            .get()
        )
    first_phase = Phase.objects.filter(project=project).order_by("order").only("goal").first()
    metrics = selectors.version_metrics(version)
    evaluation = evaluation_of(project, metrics)
    accepted = list(
        Outcome.objects.filter(phase__project=project, review_status=ReviewStatus.ACCEPTED)
        .select_related("phase", "reviewer")
        .order_by("reviewed_at", "pk")
    )
    evidence = (
        list(
            RunEvidence.objects.filter(run=run)
            .select_related("outcome__phase", "linked_by")
            .order_by("created_at", "pk")
        )
        if run is not None
        else []
    )
    deployments = list(
        DeploymentEvent.objects.filter(registered_model=registered_model)
        .select_related("by")
        .order_by("-created_at", "-pk")
    )
    alias = production_alias(project)
    aliases = sorted(a.alias for a in version.aliases.all())
    run_metrics = {}
    if run is not None:
        run_metrics = {
            s.key: (None if s.latest_is_nan else s.latest_value)
            for s in sorted(run.metric_series.all(), key=lambda s: s.key)
        }
    warnings = []
    if run is None:
        warnings.append("This version names no run of the project: its training is unknown.")
    return Card(
        version=version,
        project_name=project.name,
        problem=project.description,
        first_phase_goal=first_phase.goal if first_phase else "",
        evaluation=evaluation,
        run=run,
        params={p.key: p.value for p in sorted(run.params.all(), key=lambda p: p.key)}
        if run
        else {},
        run_metrics=run_metrics,
        version_metrics=metrics,
        datasets=[
            {"name": i.name, "digest": i.digest, "context": i.context, "source": i.source}
            for i in sorted(run.inputs.all(), key=lambda i: i.pk)
        ]
        if run
        else [],
        trial=_trial_of(run),
        accepted_outcomes=accepted,
        evidence_for=evidence,
        deployments=deployments,
        aliases=aliases,
        tags={t.key: t.value for t in sorted(version.tags.all(), key=lambda t: t.key)},
        in_production=alias in aliases,
        production_alias=alias,
        warnings=warnings,
    )


# --- Markdown ---------------------------------------------------------------------------

_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#!|~"})
_LINE_START = re.compile(r"^([-+=]|\d+[.)])")


def _text(value) -> str:
    """User text as inert Markdown: one line, inline markup and HTML escaped, and nothing
    that would open a list or a heading where it starts a line."""
    text = " ".join(str(value).split()).translate(_MARKDOWN_SPECIAL)
    return _LINE_START.sub(r"\\\1", text)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "n/a"


def _who(user) -> str:
    return _text(display_name(user)) if user is not None else "someone no longer here"


def card_filename(version: ModelVersion) -> str:
    """The Markdown download's file name: safe characters only, whatever the model's name."""
    name = "".join(
        c if c.isascii() and (c.isalnum() or c in "-_") else "-"
        for c in version.registered_model.name
    ).strip("-")
    return f"model-card-{name[:80] or 'model'}-v{version.version}.md"


def card_markdown(card: Card) -> str:
    version = card.version
    name = version.registered_model.name
    lines = [
        f"# Model card: {_text(name)} v{version.version}",
        "",
        f"Project: {_text(card.project_name)}. "
        + (
            f"In production at “{_text(card.production_alias)}”."
            if card.in_production
            else f"Not at the production alias “{_text(card.production_alias)}”."
        ),
        "",
    ]
    if version.description:
        lines += [_text(version.description), ""]
    lines += ["## The problem", ""]
    lines.append(_text(card.problem) if card.problem else "The project has no description.")
    if card.first_phase_goal:
        lines += ["", f"Goal of the first phase: {_text(card.first_phase_goal)}"]
    lines.append("")
    lines += ["## Evaluation", ""]
    evaluation = card.evaluation
    if evaluation is None:
        lines.append("The project has set no success metric.")
    else:
        direction = MetricDirection(evaluation.direction).label.lower()
        verdict = {True: "meets the target", False: "misses the target", None: "cannot be judged"}
        named = _text(evaluation.metric)
        if evaluation.label:
            named = f"{_text(evaluation.label)} (key {named})"
        lines += [
            f"- Success metric: {named} ({direction})",
            f"- Target: {_number(evaluation.target)}",
            f"- This version: {_number(evaluation.value)}, which {verdict[evaluation.met]}",
        ]
    lines += ["", "## Training", ""]
    run = card.run
    if run is None:
        lines.append("No run of this project is recorded for this version.")
    else:
        lines += [
            f"- Run: {_text(run.name)} (`{run.run_id}`), experiment {_text(run.experiment.name)}",
            f"- Source: `{_text(version.source)}`",
        ]
        if version.logged_model is not None:
            lines.append(f"- Logged model: `{version.logged_model.model_id}`")
        trial = card.trial
        if trial:
            lines.append(
                f"- Sweep trial: {_text(trial['label'])} ({_text(trial['objective'])} "
                f"{_number(trial['value'])}), on the dataset {_text(trial['dataset'])} "
                f"({trial['dataset_rows']} rows, target {_text(trial['dataset_target'])})"
                + (f"; {_text(trial['dataset_origin'])}" if trial["dataset_origin"] else "")
            )
        else:
            lines.append("- Sweep trial: none")
        for title, values in (("Params", card.params), ("Metrics", card.version_metrics)):
            lines += ["", f"### {title}", ""]
            if not values:
                lines.append("None recorded.")
                continue
            lines += ["| key | value |", "| --- | --- |"]
            shown = {k: _number(v) for k, v in values.items()} if title == "Metrics" else values
            lines += [f"| {_text(k)} | {_text(v)} |" for k, v in shown.items()]
        lines += ["", "### Datasets", ""]
        if card.datasets:
            lines += [
                f"- {_text(d['name'])} (digest `{_text(d['digest'])}`"
                + (f", {_text(d['context'])}" if d["context"] else "")
                + ")"
                for d in card.datasets
            ]
        else:
            lines.append("None recorded.")
    lines += ["", "## Review", ""]
    if card.evidence_for:
        lines += [
            f"- Evidence for “{_text(e.outcome.name)}” ({_text(e.outcome.phase.name)}), linked by "
            f"{_who(e.linked_by)} on {_when(e.created_at)}"
            for e in card.evidence_for
        ]
    if card.accepted_outcomes:
        lines += [
            f"- Accepted: “{_text(o.name)}” ({_text(o.phase.name)}) by {_who(o.reviewer)} on "
            f"{_when(o.reviewed_at)}"
            for o in card.accepted_outcomes
        ]
    if not card.evidence_for and not card.accepted_outcomes:
        lines.append("No outcome has been accepted yet.")
    lines += ["", "## Deployments", ""]
    if card.deployments:
        for event in card.deployments:
            what = (
                f"v{event.version} promoted"
                if event.version is not None
                else f"withdrawn (was v{event.previous_version})"
            )
            before = (
                f", replacing v{event.previous_version}"
                if event.version is not None and event.previous_version is not None
                else ""
            )
            lines.append(
                f"- {_when(event.created_at)}: {what} at “{_text(event.alias)}”{before}, "
                f"by {_who(event.by)}"
            )
    else:
        lines.append("Never deployed.")
    if card.warnings:
        lines += ["", "## Warnings", ""] + [f"- {_text(w)}" for w in card.warnings]
    return "\n".join(lines) + "\n"
