"""The sweeps section of a project page and a sweep's own page: progress, the trials'
leaderboard, the best score so far, params against the score, and Optuna's importances.

The section costs one query (the newest sweeps with their trial counts). The page reads the
sweep's progress, its trials (each with its run) and the trials' importances through
``experiments.selectors``; its cost does not grow with the number of trials.
"""

from dataclasses import dataclass

from experiments import selectors as experiments
from experiments.choices import SWEEP_ACTIVE, TRIAL_RAN, TrialStatus
from experiments.models import Dataset, Sweep, Trial
from experiments.sweeps.families import FAMILIES
from experiments.sweeps.sampling import FAMILY, Importances
from phases.models import Project

SECTION_SWEEPS = 8
LEADERBOARD_TRIALS = 50


@dataclass(frozen=True, slots=True)
class SweepRow:
    sweep: Sweep
    total: int
    done: int  # ran to an end (``TRIAL_RAN``): the cancelled trials are not done
    failed: int
    cancelled: int
    pruned: int
    running: int

    @property
    def active(self) -> bool:
        return self.sweep.status in SWEEP_ACTIVE

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _row(sweep: Sweep) -> SweepRow:
    done = sum(getattr(sweep, f"{status}_count") for status in TRIAL_RAN)
    return SweepRow(
        sweep=sweep,
        total=sweep.trial_count,
        done=done,
        failed=sweep.failed_count,
        cancelled=sweep.cancelled_count,
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
    family: str  # as people name it ("Random forest"); "" before the trial has params
    params: list[tuple[str, str]]  # (key, as shown): every param of the trial's family

    @property
    def ranked(self) -> bool:
        return self.rank is not None


@dataclass(frozen=True, slots=True)
class TrialsTable:
    """The trials' leaderboard, which the page draws and redraws alone while the sweep runs."""

    rows: list[TrialRow]
    hidden: int  # trials ranked below the rows shown
    objective: str
    several_families: bool  # whether each row names its family


@dataclass(slots=True)
class SweepPage:
    sweep: Sweep
    progress: dict
    table: TrialsTable
    best_so_far: list[tuple[int, float]]
    importances: dict[str, float]
    importances_family: str  # whose params they are (the best trial's family), as people name it
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
        return [family_label(self.sweep, key) for key in self.sweep.families]

    @property
    def several_families(self) -> bool:
        """Whether each trial's row names its family (the page's head names a lone one)."""
        return len(self.sweep.families) > 1

    @property
    def importances_title(self) -> str:
        """The importances chart's title: of several families, it names the one it is of."""
        if self.several_families and self.importances_family:
            return f"Which params mattered: {self.importances_family}"
        return "Which params mattered"


def family_label(sweep: Sweep, key: str) -> str:
    """A family of ``sweep``'s task as people name it ("Random forest" for ``random_forest``)."""
    family = FAMILIES.get(sweep.task, {}).get(key)
    return family.label if family else key


def param_text(value) -> str:
    """A trial's param as a page shows it: JSON's null as "None", numbers as short as they read."""
    if value is None:
        return "None"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _trial_params(sweep: Sweep, trial: Trial) -> tuple[str, list[tuple[str, str]]]:
    """The trial's family as people name it, and each of its params as shown, in the order
    the family lists them. Every param of the trial is there: the families of one sweep
    search different params, so columns shared by all trials would leave most cells empty
    and drop the params of the families that did not fit."""
    params = dict(trial.params)
    key = params.pop(FAMILY, "")
    family = FAMILIES.get(sweep.task, {}).get(key)
    order = {name: i for i, name in enumerate(family.params)} if family else {}
    names = sorted(params, key=lambda name: (order.get(name, len(order)), name))
    return (family.label if family else key), [(name, param_text(params[name])) for name in names]


def _table(sweep: Sweep, trials: list[Trial]) -> TrialsTable:
    rows = []
    for index, trial in enumerate(trials[:LEADERBOARD_TRIALS]):
        ranked = trial.status == TrialStatus.SUCCEEDED and trial.value is not None
        family, params = _trial_params(sweep, trial)
        rows.append(
            TrialRow(rank=index + 1 if ranked else None, trial=trial, family=family, params=params)
        )
    return TrialsTable(
        rows=rows,
        hidden=max(len(trials) - LEADERBOARD_TRIALS, 0),
        objective=sweep.metrics[0] if sweep.metrics else "",
        several_families=len(sweep.families) > 1,
    )


def sweep_trials_table(*, sweep: Sweep) -> TrialsTable:
    """The trials' leaderboard alone, as the page polls it while the sweep runs: one query."""
    return _table(sweep, experiments.sweep_trials(sweep))


def sweep_page(*, sweep: Sweep) -> SweepPage:
    trials = experiments.sweep_trials(sweep)
    succeeded = [t for t in trials if t.status == TrialStatus.SUCCEEDED and t.value is not None]
    importances = (
        experiments.sweep_importances(sweep) if len(succeeded) >= 2 else Importances(family="")
    )
    return SweepPage(
        sweep=sweep,
        progress=experiments.sweep_progress(sweep),
        table=_table(sweep, trials),
        best_so_far=experiments.sweep_best_so_far(sweep),
        importances=importances.values,
        importances_family=family_label(sweep, importances.family) if importances.family else "",
        placed=succeeded,
    )


def project_datasets(*, project: Project) -> list[Dataset]:
    return list(Dataset.objects.filter(project=project).order_by("name"))
