"""The registry demo step: registered models with versions trained by real-looking runs,
one version at the production alias with a deployment history, and challengers waiting.

- **Card fraud detection** (live since the spring, now back in Experimentation after the
  checkout changed the mix of payments): ``fraud-scorer`` v1 (logistic regression), v2
  (gradient-boosted trees, at the production alias since the project entered
  Productionization, after v1 held it during the pipeline's staging run), and v3, retrained
  on the first post-launch weeks, at ``challenger`` and still short of the target.
- **Credit limit risk scoring** (in Modeling): three candidates of ``credit-limit-pd``, the
  newest at ``candidate``; nothing in production yet.
- **Grid load forecasting**: ``grid-load`` v1 (a seasonal baseline) and v2 (the temporal
  fusion transformer). The monitoring demo step, which runs after this one, puts v2 at the
  production alias and monitors it; this step leaves that move to it.

Runs are made through ``experiments.services`` in an experiment of their own, with params,
a metric curve per key, their datasets, and times dated back with the projects' histories;
every alias move goes through ``registry.services``, so each one at the production alias is
a recorded deployment event (and a deployment for ``monitoring``, through its hook).
"""

import datetime as dt
import random
from dataclasses import dataclass, field

from experiments import services as experiments
from experiments.choices import RunStatus
from experiments.models import Run, epoch_ms
from phases.choices import OutcomeKind
from phases.management.steps import Built
from phases.models import Outcome
from registry import services
from registry.models import ModelVersion

DAY = dt.timedelta(days=1)
CURVE_STEPS = 25


@dataclass(frozen=True)
class Candidate:
    run: str
    days_ago: float
    params: dict[str, str]
    metrics: dict[str, float]  # the value each curve ends at
    description: str = ""
    aliases: tuple[str, ...] = ()  # set when the version is registered
    deployed_days_ago: float | None = None  # moved to the production alias then


@dataclass(frozen=True)
class ModelSpec:
    project: str
    experiment: str
    name: str
    description: str
    author: str  # the contributor who trains and registers
    dataset: tuple[str, str]  # name, source
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)
    evidence: bool = False  # the deployed version's run is the "model" outcome's evidence


MODELS = (
    ModelSpec(
        project="card-fraud-detection",
        experiment="fraud-scoring",
        name="fraud-scorer",
        description="Scores each card payment for fraud risk; the riskiest go to review.",
        author="lukas.schmidt",
        dataset=("payments-2024-h1", "s3://risk-lake/payments/2024-h1.parquet"),
        candidates=(
            Candidate(
                run="logreg-baseline",
                days_ago=190,
                params={"model": "logistic_regression", "C": "0.5", "class_weight": "balanced"},
                metrics={"val_pr_auc": 0.52, "val_roc_auc": 0.91, "precision_at_1pct": 0.48},
                description="Baseline: logistic regression on the card and merchant features.",
                deployed_days_ago=150,
            ),
            Candidate(
                run="gbt-device-features",
                days_ago=160,
                params={
                    "model": "lightgbm",
                    "num_leaves": "63",
                    "learning_rate": "0.05",
                    "n_estimators": "800",
                },
                metrics={"val_pr_auc": 0.66, "val_roc_auc": 0.96, "precision_at_1pct": 0.62},
                description="Gradient-boosted trees with device and velocity features.",
                deployed_days_ago=112,
            ),
            Candidate(
                run="gbt-post-launch",
                days_ago=4,
                params={
                    "model": "lightgbm",
                    "num_leaves": "127",
                    "learning_rate": "0.03",
                    "n_estimators": "1200",
                },
                metrics={"val_pr_auc": 0.57, "val_roc_auc": 0.94, "precision_at_1pct": 0.55},
                description="Retrained on three post-launch weeks; wallet payments still thin.",
                aliases=("challenger",),
            ),
        ),
        evidence=True,
    ),
    ModelSpec(
        project="credit-limit-risk-scoring",
        experiment="pd-models",
        name="credit-limit-pd",
        description="Probability of default in 12 months, for setting credit limits.",
        author="contributor",
        dataset=("applications-2019-2023", "s3://credit-lake/applications/2019-2023.parquet"),
        candidates=(
            Candidate(
                run="scorecard-2016-refit",
                days_ago=95,
                params={"model": "scorecard", "bins": "10"},
                metrics={"val_auc": 0.71, "val_ks": 0.31},
            ),
            Candidate(
                run="gbm-bureau",
                days_ago=40,
                params={"model": "xgboost", "max_depth": "5", "eta": "0.08"},
                metrics={"val_auc": 0.76, "val_ks": 0.38},
            ),
            Candidate(
                run="gbm-alt-data",
                days_ago=9,
                params={"model": "xgboost", "max_depth": "6", "eta": "0.05"},
                metrics={"val_auc": 0.79, "val_ks": 0.41},
                description="With the bureau's alternative-data feed for thin-file applicants.",
                aliases=("candidate",),
            ),
        ),
    ),
    ModelSpec(
        project="grid-load-forecasting",
        experiment="load-forecast",
        name="grid-load",
        description="Hourly load per substation, 48 hours ahead, for dispatch planning.",
        author="diego.alvarez",
        dataset=("substation-load-2021-2024", "s3://grid-lake/load/2021-2024.parquet"),
        candidates=(
            Candidate(
                run="seasonal-naive",
                days_ago=110,
                params={"model": "seasonal_naive", "season_hours": "168"},
                metrics={"val_mape": 0.071, "val_rmse_mw": 61.0},
                aliases=("baseline",),
            ),
            Candidate(
                run="tft-weather",
                days_ago=60,
                params={"model": "temporal_fusion_transformer", "hidden": "64", "lookback": "168"},
                metrics={"val_mape": 0.039, "val_rmse_mw": 34.5},
                description="Temporal fusion transformer with the weather forecast as input.",
            ),
        ),
    ),
)


def _train(spec: ModelSpec, candidate: Candidate, *, experiment, by, at: dt.datetime, rng) -> Run:
    """A finished run: its params, a curve per metric ending at the candidate's value, and
    its training and validation datasets."""
    start = epoch_ms(at)
    run = experiments.run_create(experiment=experiment, by=by, name=candidate.run, start_time=start)
    points = []
    for key, final in candidate.metrics.items():
        first = final * (0.7 if key.endswith(("auc", "ks", "1pct")) else 1.6)
        for step in range(CURVE_STEPS):
            progress = 1 - (1 - step / (CURVE_STEPS - 1)) ** 2
            noise = rng.gauss(0, abs(final) * 0.004) if step < CURVE_STEPS - 1 else 0.0
            value = first + (final - first) * progress + noise
            points.append(experiments.MetricIn(key, round(value, 5), start + step * 60_000, step))
    experiments.log_batch(run=run, by=by, metrics=points, params=sorted(candidate.params.items()))
    name, source = spec.dataset
    digest = f"{rng.getrandbits(32):08x}"
    experiments.log_inputs(
        run=run,
        by=by,
        datasets=[
            experiments.DatasetIn(
                name=f"{name}-{context}",
                digest=digest[:4] + context[:4],
                source_type="s3",
                source=f'{{"uri": "{source}"}}',
                tags=[("mlflow.data.context", context)],
            )
            for context in ("train", "validation")
        ],
    )
    experiments.run_update(
        run=run, by=by, status=RunStatus.FINISHED, end_time=start + CURVE_STEPS * 60_000
    )
    return run


def _register(spec: ModelSpec, portfolio: Built, rng: random.Random) -> list[ModelVersion]:
    project = portfolio.projects[spec.project]
    author = portfolio.users.get(spec.author, project.owner)
    manager = project.owner
    experiment = experiments.experiment_create(project=project, name=spec.experiment, by=author)
    model = services.registered_model_create(
        project=project, name=spec.name, by=author, description=spec.description
    )
    alias = services.production_alias(project)
    versions = []
    for candidate in spec.candidates:
        at = portfolio.now - candidate.days_ago * DAY
        run = _train(spec, candidate, experiment=experiment, by=author, at=at, rng=rng)
        version = services.model_version_register(
            registered_model=model,
            by=author,
            run=run,
            artifact_path="model",
            description=candidate.description,
            tags=[("framework", candidate.params["model"])],
        )
        registered = epoch_ms(at + dt.timedelta(hours=1))
        ModelVersion.objects.filter(pk=version.pk).update(
            creation_time=registered, last_update_time=registered
        )
        for other in candidate.aliases:
            services.alias_set(
                version=version, alias=other, by=author, now=at + dt.timedelta(hours=2)
            )
        versions.append((candidate, version))
    # Deployments in the order they happened, each a recorded move of the production alias.
    deployed = sorted(
        ((c.deployed_days_ago, v) for c, v in versions if c.deployed_days_ago is not None),
        key=lambda pair: -pair[0],
    )
    for days_ago, version in deployed:
        services.alias_set(
            version=version, alias=alias, by=manager, now=portfolio.now - days_ago * DAY
        )
    if spec.evidence and deployed:
        outcome = (
            Outcome.objects.filter(phase__project=project, kind=OutcomeKind.MODEL)
            .order_by("phase__order", "order", "pk")
            .first()
        )
        if outcome is not None:
            services.version_offer_as_evidence(version=deployed[-1][1], outcome=outcome, by=manager)
    return [version for _, version in versions]


def build(*, portfolio: Built, rng: random.Random) -> str:
    made = []
    for spec in MODELS:
        if spec.project not in portfolio.projects:
            continue
        versions = _register(spec, portfolio, rng)
        made.append(f"{spec.name} ({len(versions)} versions)")
    if not made:
        return ""
    return f"Registry: {', '.join(made)}; fraud-scorer v2 at the production alias."
