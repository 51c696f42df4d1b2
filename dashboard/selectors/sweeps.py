"""The sweeps section of a project page and a sweep's own page: progress, the trials'
leaderboard, the best score so far, params against the score, and Optuna's importances.

The section costs one query (the newest sweeps with their trial counts). The page reads the
sweep's progress, its trials (each with its run) and the trials' importances through
``experiments.selectors``; its cost does not grow with the number of trials.
"""

from dataclasses import dataclass

from dashboard import figures
from experiments import selectors as experiments
from experiments.choices import SWEEP_ACTIVE, TRIAL_DONE, TrialStatus
from experiments.models import Dataset, Sweep, Trial
from experiments.sweeps.families import FAMILIES
from phases.models import Project

SECTION_SWEEPS = 8
LEADERBOARD_TRIALS = 50
SHOWN_PARAMS = 4


@dataclass(frozen=True, slots=True)
class SweepRow:
    sweep: Sweep
    total: int
    done: int
    failed: int
    pruned: int
    running: int

    @property
    def active(self) -> bool:
        return self.sweep.status in SWEEP_ACTIVE

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _row(sweep: Sweep) -> SweepRow:
    done = sum(getattr(sweep, f"{status}_count") for status in TRIAL_DONE)
    return SweepRow(
        sweep=sweep,
        total=sweep.trial_count,
        done=done,
        failed=sweep.failed_count,
        pruned=sweep.pruned_count,
        running=sweep.running_count,
    )


def project_sweeps(*, project: Project) -> list[SweepRow]:
    """The project's newest sweeps, with their progress: one query."""
    return [_row(sweep) for sweep in experiments.sweeps_of_project(project)[:SECTION_SWEEPS]]


def sweep_of(*, project: Project, sweep_id: int) -> Sweep | None:
    """A sweep of ``project`` (already checked visible), its dataset and best trial joined."""
    return (
        Sweep.objects.filter(project=project, pk=sweep_id)
        .select_related("dataset", "best_trial__run", "created_by", "experiment")
        .first()
    )


@dataclass(frozen=True, slots=True)
class TrialRow:
    rank: int | None
    trial: Trial
    params: list[tuple[str, str]]  # (key, as shown), in the page's column order

    @property
    def ranked(self) -> bool:
        return self.rank is not None


@dataclass(slots=True)
class SweepPage:
    sweep: Sweep
    progress: dict
    trials: list[TrialRow]
    param_keys: list[str]
    hidden_trials: int
    best_so_far: list[tuple[int, float]]
    importances: dict[str, float]
    placed: list[Trial]

    @property
    def objective(self) -> str:
        return self.sweep.metrics[0] if self.sweep.metrics else ""

    @property
    def maximize(self) -> bool:
        return self.sweep.maximizes

    @property
    def active(self) -> bool:
        return self.sweep.status in SWEEP_ACTIVE

    @property
    def family_labels(self) -> list[str]:
        """The sweep's estimator families as people name them ("Random forest")."""
        known = FAMILIES.get(self.sweep.task, {})
        return [known[key].label if key in known else key for key in self.sweep.families]


def param_text(value) -> str:
    """A trial's param as a page shows it: JSON's null as "None", numbers as short as they read."""
    if value is None:
        return "None"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _param_keys(trials: list[Trial]) -> list[str]:
    """The params that tell trials apart (the family first when there are several)."""
    return figures.varying_params(
        [{k: param_text(v) for k, v in trial.params.items()} for trial in trials], SHOWN_PARAMS
    )


def sweep_page(*, sweep: Sweep) -> SweepPage:
    trials = experiments.sweep_trials(sweep)
    succeeded = [t for t in trials if t.status == TrialStatus.SUCCEEDED and t.value is not None]
    keys = _param_keys(succeeded or trials)
    rows = []
    for index, trial in enumerate(trials[:LEADERBOARD_TRIALS]):
        ranked = trial.status == TrialStatus.SUCCEEDED and trial.value is not None
        rows.append(
            TrialRow(
                rank=index + 1 if ranked else None,
                trial=trial,
                params=[
                    (key, param_text(trial.params[key]) if key in trial.params else "")
                    for key in keys
                ],
            )
        )
    return SweepPage(
        sweep=sweep,
        progress=experiments.sweep_progress(sweep),
        trials=rows,
        param_keys=keys,
        hidden_trials=max(len(trials) - LEADERBOARD_TRIALS, 0),
        best_so_far=experiments.sweep_best_so_far(sweep),
        importances=experiments.sweep_importances(sweep) if len(succeeded) >= 2 else {},
        placed=succeeded,
    )


def project_datasets(*, project: Project) -> list[Dataset]:
    return list(Dataset.objects.filter(project=project).order_by("name"))
