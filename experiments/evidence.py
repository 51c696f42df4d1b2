"""Evidence rules that the stored runs answer, for the gates of ``phases``.

``phases`` knows an outcome can carry an evidence rule but not how to judge it; this module
judges the rules about experiment runs and registers itself in ``ExperimentsConfig.ready``.

**Best run meets target.** The project sets its success metric, target and direction in its
first phase; the rule is met when the best run of the project has reached the target on
that metric. Which run is best is ``experiments.ranking``'s one ranking (the leaderboard's
too): every run of the project that has a rank, not only the runs linked to the outcome as
evidence (``RunEvidence``). The rule reads "a run of this project reaches the target";
links are for reviewers' context, and a gate that waited for someone to link the right run
would say "no" about a model that exists. What meets the target is
``phases.metrics.meets_target``.

**After a loop back** into the outcome's phase, only runs started since the latest move
back count: the evidence from before it (a model that met the target on data production
has since drifted away from) is what sent the project back, so it cannot open the gate
again. The leaderboard keeps ranking every run; the gate's message says which it read.

Two queries, whatever the number of runs: the project's settings, then the best series.
"""

from django.db.models import Subquery

from experiments import ranking
from phases.choices import MetricDirection
from phases.gates import Criterion
from phases.metrics import meets_target, shortfall
from phases.models import Outcome, Project
from phases.selectors import reopened

KIND = "evidence"


def _number(value: float) -> str:
    return f"{value:.6g}"


def _evidence(project: Project, *, run=None, value=None, gap=None) -> dict:
    """The same keys whatever the verdict, so that pages can read them without checks."""
    return {
        "run_id": run.run_id if run else None,
        "run_name": run.name if run else None,
        "metric": project.success_metric or None,
        "value": value,
        "target": project.success_target,
        "direction": project.success_direction,
        "gap": gap,
    }


def best_run_meets_target(outcome: Outcome) -> Criterion:
    """Does the best active run of the outcome's project reach the project's target?"""
    project = (
        Project.objects.filter(phases=outcome.phase_id)
        .only("success_metric", "success_target", "success_direction")
        .annotate(reopened_at=Subquery(reopened(outcome.phase_id).values("created_at")[:1]))
        .get()
    )
    metric, target = project.success_metric, project.success_target
    if not metric or target is None:
        missing = " and ".join(
            words
            for words, unset in (
                ("its success metric (the metric key runs log, for example val_auc)", not metric),
                ("its success target", target is None),
            )
            if unset
        )
        return Criterion(
            KIND,
            outcome.name,
            False,
            f"“{outcome.name}” is judged against the project's success metric: set {missing} "
            "on the project.",
            evidence=_evidence(project),
        )

    maximize = ranking.maximize(project)
    series = ranking.ranked_series(project=project, key=metric, since=project.reopened_at)
    since = ""
    if project.reopened_at is not None:
        since = f" since the move back of {project.reopened_at:%Y-%m-%d}"
    best = (
        series.select_related("run")
        .only("latest_value", "run__run_id", "run__name", "run__start_time")
        .first()
    )
    direction = MetricDirection(project.success_direction)
    wanted = f"the target {_number(target)} ({direction.label.lower()})"
    if best is None:
        return Criterion(
            KIND,
            outcome.name,
            False,
            f"No run of this project has logged {metric}{since} yet; {wanted}.",
            evidence=_evidence(project),
        )

    value, run = best.latest_value, best.run
    met = meets_target(value, target, maximize=maximize)
    short = shortfall(value, target, maximize=maximize)
    gap = 0.0 if met else float(f"{short:.12g}")  # 0.03, not 0.030000000000000027
    who = f"(run “{run.name}”, {run.run_id[:8]}…)"
    if met:
        message = f"Best {metric}{since} {_number(value)} {who} meets {wanted}."
    else:
        message = (
            f"Best {metric}{since} {_number(value)} {who} is {_number(gap)} short of {wanted}."
        )
    return Criterion(
        KIND,
        outcome.name,
        met,
        message,
        evidence=_evidence(project, run=run, value=value, gap=gap),
    )
