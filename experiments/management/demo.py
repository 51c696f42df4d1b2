"""The experiments demo step: the runs each project's team logged while it experimented.

Every project that has been through Experimentation (Modeling in the MLOps lifecycle), or
is there now, gets an experiment of realistic runs, written through the services as the
MLflow layer writes them: params, a learning curve of the success metric and of the
training loss (one point per evaluation step), the fit time, and the run's status. Each
experiment holds a failed run (out of memory, or a diverged model) with the part of its
curve it logged before it stopped, so the leaderboard shows that failed runs never rank.

Runs are dated inside the phase they belong to, as the portfolio's history has it. The
final values agree with the portfolio's story: Fresh produce demand forecasting's best
run beats its target and its outcome's evidence rule ("a run of this project reaches the
target") is met by it, while Card fraud detection's retraining on post-launch data is
still short of its target, so its gate names the gap.
"""

import datetime as dt
import io
import math
import random
from dataclasses import dataclass, field

from django.core.files.base import ContentFile

from experiments import services
from experiments.choices import RunStatus
from experiments.models import epoch_ms
from experiments.services import MetricIn
from experiments.sweeps import ledger
from phases import services as phases
from phases.choices import EvidenceRule, OutcomeKind, PhaseStatus, Role
from phases.management.steps import Built
from phases.metrics import meets_target
from phases.models import Phase, Project

TRAIN_LOSS = "train_loss"
FIT_SECONDS = "fit_seconds"


@dataclass(frozen=True)
class RunSpec:
    """One run: its params, where its success metric ends, and how it got there."""

    name: str
    params: dict[str, str]
    final: float
    steps: int = 20
    failed_at: int | None = None  # the step it crashed at; None for a finished run
    error: str = ""


@dataclass(frozen=True)
class ExperimentSpec:
    project: str
    name: str
    phase: str
    # The value a run starts its curve at, before it learns anything.
    start: float
    runs: tuple[RunSpec, ...]
    every: int = 25  # evaluation every so many iterations (boosting rounds, epochs...)
    evidence_rule: bool = False
    tags: dict[str, str] = field(default_factory=dict)


def _gbm(lr: float, leaves: int, rounds: int, **more: str) -> dict[str, str]:
    return {
        "model": "lightgbm",
        "learning_rate": str(lr),
        "num_leaves": str(leaves),
        "n_estimators": str(rounds),
        **more,
    }


EXPERIMENTS = (
    ExperimentSpec(
        project="fresh-produce-demand-forecasting",
        name="demand-14d-gbm",
        phase="Experimentation",
        start=0.42,
        evidence_rule=True,
        runs=(
            RunSpec("seasonal-baseline", {"model": "seasonal_naive", "season_days": "7"}, 0.27, 1),
            RunSpec("gbm-lags-only", _gbm(0.1, 31, 500, lookback_days="28"), 0.214),
            RunSpec("gbm-weather", _gbm(0.05, 63, 500, lookback_days="28"), 0.193),
            RunSpec("gbm-weather-promo", _gbm(0.05, 63, 800, lookback_days="56"), 0.176, 32),
            RunSpec("gbm-promo-deep", _gbm(0.05, 255, 800, lookback_days="56"), 0.188, 32),
            RunSpec(
                "gbm-all-stores-oom",
                _gbm(0.03, 255, 1200, lookback_days="112"),
                0.2,
                48,
                failed_at=13,
                error="Worker killed: out of memory at 61 GiB while building 112-day lags.",
            ),
            RunSpec("tft-small", {"model": "temporal_fusion_transformer", "hidden": "64"}, 0.181),
        ),
    ),
    ExperimentSpec(
        project="card-fraud-detection",
        name="fraud-post-launch-retrain",
        phase="Experimentation",
        start=0.12,
        evidence_rule=True,
        runs=(
            RunSpec("gbt-old-features", _gbm(0.05, 63, 600, train_weeks="6"), 0.49),
            RunSpec("gbt-wallet-flag", _gbm(0.05, 63, 600, train_weeks="6"), 0.54),
            RunSpec("gbt-device-v2", _gbm(0.03, 127, 900, train_weeks="6"), 0.57, 36),
            RunSpec(
                "gbt-device-v2-focal",
                _gbm(0.3, 127, 900, train_weeks="6", loss="focal"),
                0.3,
                36,
                failed_at=7,
                error="Training diverged: loss became NaN at round 175 (learning rate 0.3).",
            ),
        ),
    ),
    ExperimentSpec(
        project="wind-turbine-predictive-maintenance",
        name="bearing-rul",
        phase="Modeling",
        start=38.0,
        every=5,
        runs=(
            RunSpec("physics-baseline", {"model": "degradation_curve"}, 21.0, 1),
            RunSpec("gbm-vibration", _gbm(0.05, 31, 400, window_hours="24"), 16.8),
            RunSpec("lstm-scada", {"model": "lstm", "hidden": "128", "epochs": "60"}, 14.2, 12),
            RunSpec(
                "lstm-scada-wide",
                {"model": "lstm", "hidden": "512", "epochs": "60"},
                15.0,
                12,
                failed_at=4,
                error="CUDA out of memory: tried to allocate 9.3 GiB.",
            ),
        ),
    ),
    ExperimentSpec(
        project="credit-limit-risk-scoring",
        name="default-12m",
        phase="Modeling",
        start=0.5,
        runs=(
            RunSpec("scorecard-2016", {"model": "scorecard"}, 0.71, 1),
            RunSpec("logreg-bureau", {"model": "logistic_regression", "C": "0.3"}, 0.745, 1),
            RunSpec("gbm-alt-data", _gbm(0.05, 31, 600, monotone="true"), 0.786),
            RunSpec("gbm-alt-data-deep", _gbm(0.05, 127, 600, monotone="true"), 0.779),
            RunSpec(
                "gbm-no-monotone",
                _gbm(0.05, 127, 600, monotone="false"),
                0.79,
                failed_at=11,
                error="Stopped: the reason-code check found non-monotone scores on income.",
            ),
        ),
    ),
    ExperimentSpec(
        project="support-ticket-routing",
        name="ticket-queue-classifier",
        phase="Experimentation",
        start=0.08,
        every=1,
        runs=(
            RunSpec("tfidf-logreg", {"model": "tfidf_logreg", "ngrams": "1-2"}, 0.71, 1),
            RunSpec("xlmr-base", {"model": "xlm-roberta-base", "epochs": "4"}, 0.81, 8),
            RunSpec("xlmr-base-lr2e-5", {"model": "xlm-roberta-base", "epochs": "6"}, 0.84, 12),
            RunSpec(
                "xlmr-large",
                {"model": "xlm-roberta-large", "epochs": "6"},
                0.8,
                12,
                failed_at=3,
                error="Preempted: the spot instance was reclaimed.",
            ),
        ),
    ),
    ExperimentSpec(
        project="delivery-eta-prediction",
        name="eta-at-order",
        phase="Experimentation",
        start=11.0,
        runs=(
            RunSpec("median-by-zone", {"model": "zone_median"}, 6.3, 1),
            RunSpec("gbm-route", _gbm(0.05, 63, 500), 4.6),
            RunSpec("gbm-route-kitchen", _gbm(0.05, 63, 700), 4.1, 28),
            RunSpec(
                "gbm-courier-gps",
                _gbm(0.05, 63, 700, features="gps_1s"),
                4.3,
                28,
                failed_at=9,
                error="Feature job failed: GPS table partition 2026-06 missing.",
            ),
        ),
    ),
)


def _window(project: Project, phase_name: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When the project was last in that phase: runs are dated inside it."""
    phase = Phase.objects.get(project=project, name=phase_name)
    started = phase.started_at or now - dt.timedelta(days=30)
    ended = phase.ended_at if phase.status != PhaseStatus.ACTIVE and phase.ended_at else now
    return started, ended


def _curve(spec: RunSpec, start: float, rng: random.Random) -> list[float]:
    """A learning curve from ``start`` to ``spec.final``: fast at first, then flattening,
    with evaluation noise; the last point is the final value exactly."""
    if spec.steps == 1:
        return [spec.final]
    tau = spec.steps / 4
    span = spec.final - start
    values = []
    for step in range(spec.steps):
        progress = 1 - math.exp(-(step + 1) / tau)
        noise = rng.gauss(0, abs(span) * 0.01)
        values.append(start + span * progress / (1 - math.exp(-spec.steps / tau)) + noise)
    values[-1] = spec.final
    return values


def _log(experiment, spec: RunSpec, ex: ExperimentSpec, *, by, at: int, metric: str, rng):
    """One run through the services, as the mlflow client logs it."""
    run = services.run_create(
        experiment=experiment,
        by=by,
        name=spec.name,
        start_time=at,
        tags=[("mlflow.source.name", "train.py"), ("mlflow.source.type", "JOB")],
    )
    values = _curve(spec, ex.start, rng)
    steps = len(values) if spec.failed_at is None else spec.failed_at
    seconds_a_step = rng.uniform(20, 90)
    points = []
    for step in range(steps):
        stamp = at + int(1000 * seconds_a_step * (step + 1))
        iteration = step * ex.every if spec.steps > 1 else 0
        loss = 0.9 * math.exp(-step / max(spec.steps / 3, 1)) + 0.05 + rng.uniform(0, 0.01)
        points.append(MetricIn(metric, float(values[step]), stamp, iteration))
        points.append(MetricIn(TRAIN_LOSS, float(loss), stamp, iteration))
    end = at + int(1000 * seconds_a_step * (steps + 1))
    tags = [("mlflow.note.content", spec.error)] if spec.error else []
    if spec.failed_at is None:
        points.append(MetricIn(FIT_SECONDS, round(seconds_a_step * steps, 1), end, 0))
    services.log_batch(run=run, by=by, metrics=points, params=list(spec.params.items()), tags=tags)
    status = RunStatus.FAILED if spec.failed_at is not None else RunStatus.FINISHED
    return services.run_update(run=run, by=by, status=status, end_time=end)


def _contributors(project: Project) -> list:
    users = [
        m.user for m in project.memberships.select_related("user") if m.role == Role.CONTRIBUTOR
    ]
    return users or [project.owner]


SWEEP_PROJECT = "credit-limit-risk-scoring"
SWEEP_ROWS = 600
FINISHED_TRIALS = 10
RUNNING_TRIALS = 24
RAN_OF_RUNNING = 4
REGIONS = ("north", "south", "east", "west")


def _bureau_csv(rng: random.Random) -> bytes:
    """A sample of the credit bureau's feed: who defaulted within 12 months of a limit
    increase. Thin files (little history) and high utilisation default more often."""
    out = io.StringIO()
    out.write("income_k,utilisation,months_history,late_payments,region,thin_file,defaulted\n")
    for _ in range(SWEEP_ROWS):
        income = max(8.0, rng.lognormvariate(3.7, 0.45))
        utilisation = min(1.0, max(0.0, rng.betavariate(2, 3)))
        history = int(rng.expovariate(1 / 60))
        late = min(12, int(rng.expovariate(1.2)))
        thin = "yes" if history < 6 else "no"
        score = (
            -2.2 + 2.4 * utilisation + 0.35 * late - 0.012 * income + (0.9 if thin == "yes" else 0)
        )
        defaulted = int(rng.random() < 1 / (1 + math.exp(-score)))
        region = rng.choice(REGIONS)
        out.write(f"{income:.1f},{utilisation:.3f},{history},{late},{region},{thin},{defaulted}\n")
    return out.getvalue().encode()


def _run_trials(sweep, count: int) -> None:
    """Run ``count`` of the sweep's queued trials as a worker would, one after another."""
    for trial in sweep.trials.filter(status="queued").order_by("number")[:count]:
        ledger.run_trial(trial.pk, owner=ledger.new_owner("demo"))


def _sweeps(portfolio: Built) -> str:
    """A finished sweep and one a worker is still running, on the bureau sample."""
    project = portfolio.projects.get(SWEEP_PROJECT)
    if project is None:
        return ""
    people = _contributors(project)
    data = _bureau_csv(random.Random(f"{SWEEP_PROJECT}:bureau"))  # noqa: S311  (demo data)
    dataset = services.dataset_create(
        project=project,
        user=people[0],
        name="bureau sample with alternative data",
        file=ContentFile(data, name="bureau.csv"),
        target="defaulted",
    )
    finished = services.sweep_create(
        project=project,
        user=people[0],
        name="limit-default baseline search",
        dataset=dataset,
        families=["logistic", "random_forest"],
        space={
            "logistic": {"C": {"type": "log_float", "low": 0.001, "high": 10.0}},
            "random_forest": {
                "n_estimators": {"type": "int", "low": 10, "high": 40},
                "max_depth": {"type": "int", "low": 2, "high": 8},
            },
        },
        strategy="tpe",
        max_trials=FINISHED_TRIALS,
        folds=3,
        seed=11,
    )
    _run_trials(finished, FINISHED_TRIALS)
    running = services.sweep_create(
        project=project,
        user=people[-1],
        name="boosting on thin files",
        dataset=dataset,
        families=["hist_gradient_boosting"],
        space={
            "hist_gradient_boosting": {
                "learning_rate": {"type": "log_float", "low": 0.02, "high": 0.3},
                "max_iter": {"type": "int", "low": 20, "high": 80},
                "max_leaf_nodes": {"type": "int", "low": 8, "high": 32},
            }
        },
        strategy="tpe",
        pruner="median",
        max_trials=RUNNING_TRIALS,
        folds=3,
        seed=12,
        max_concurrent=1,
    )
    _run_trials(running, RAN_OF_RUNNING)
    finished.refresh_from_db()
    return (
        f"Sweeps on {project.name}: “{finished.name}” {finished.status} "
        f"({FINISHED_TRIALS} trials), “{running.name}” running "
        f"({RAN_OF_RUNNING} of {RUNNING_TRIALS} trials done, the rest queued for the worker)."
    )


def build(*, portfolio: Built, rng: random.Random) -> str:
    return " ".join(line for line in (_runs(portfolio, rng), _sweeps(portfolio)) if line)


def _runs(portfolio: Built, rng: random.Random) -> str:
    runs = failed = 0
    met = []
    for ex in EXPERIMENTS:
        project = portfolio.projects.get(ex.project)
        if project is None:
            continue
        metric = project.success_metric
        people = _contributors(project)
        started, ended = _window(project, ex.phase, portfolio.now)
        experiment = services.experiment_create(
            project=project, name=ex.name, by=people[0], tags=list(ex.tags.items())
        )
        # Runs spread over the phase, the last one a day before it ended (or before today).
        span = (ended - started) - dt.timedelta(days=1)
        best = None
        for n, spec in enumerate(ex.runs, start=1):
            at = started + span * (n / (len(ex.runs) + 1))
            run = _log(
                experiment,
                spec,
                ex,
                by=people[n % len(people)],
                at=epoch_ms(at),
                metric=metric,
                rng=rng,
            )
            runs += 1
            failed += spec.failed_at is not None
            if spec.failed_at is None and (best is None or _better(project, spec, best[0])):
                best = (spec, run)
        if ex.evidence_rule:
            outcome = Phase.objects.get(project=project, name=ex.phase).outcomes.get(
                kind=OutcomeKind.MODEL
            )
            phases.outcome_update(
                outcome=outcome, by=project.owner, evidence_rule=EvidenceRule.BEST_RUN_MEETS_TARGET
            )
            services.run_evidence_link(
                run=best[1], outcome=outcome, by=people[0], note="Best run so far."
            )
            if _meets(project, best[0].final):
                met.append(project.name)
    return (
        f"Experiments: {runs} runs ({failed} failed) in {len(EXPERIMENTS)} experiments; "
        f"evidence gate met by a run on {', '.join(met) or 'no project'}."
    )


def _better(project: Project, spec: RunSpec, than: RunSpec) -> bool:
    return spec.final > than.final if project.maximizes else spec.final < than.final


def _meets(project: Project, value: float) -> bool:
    return meets_target(value, project.success_target, maximize=project.maximizes)
