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
from django.utils.timezone import localtime

from experiments import ranking
from phases.gates import (
    EVIDENCE,
    Criterion,
    judge_target,
    number,
    target_evidence,
    target_unset,
    target_words,
)
from phases.models import Outcome, Project
from phases.selectors import reopened


def _evidence(project: Project, *, run=None, value=None, gap=None) -> dict:
    return {
        "run_id": run.run_id if run else None,
        "run_name": run.name if run else None,
        **target_evidence(project, value=value, gap=gap),
    }


def best_run_meets_target(outcome: Outcome) -> Criterion:
    """Does the best active run of the outcome's project reach the project's target?"""
    project = (
        Project.objects.filter(phases=outcome.phase_id)
        .only("success_metric", "success_target", "success_direction")
        .annotate(reopened_at=Subquery(reopened(outcome.phase_id).values("created_at")[:1]))
        .get()
    )
    unset = target_unset(
        outcome,
        project,
        evidence=_evidence(project),
        metric_words="its success metric (the metric key runs log, for example val_auc)",
    )
    if unset:
        return unset

    metric = project.success_metric
    series = ranking.ranked_series(project=project, key=metric, since=project.reopened_at)
    moved_back = since = ""
    if project.reopened_at is not None:
        moved_back = f"the move back on {localtime(project.reopened_at):%-d %b %Y}"
        since = f" since {moved_back}"
    best = (
        series.select_related("run")
        .only("latest_value", "run__run_id", "run__name", "run__start_time")
        .first()
    )
    if best is None:
        return Criterion(
            EVIDENCE,
            outcome.name,
            False,
            f"No run of this project has logged {metric}{since} yet; {target_words(project)}.",
            evidence=_evidence(project),
        )

    value, run = best.latest_value, best.run
    verdict = judge_target(project, value)
    who = f"(run “{run.name}”, {run.run_id[:8]}…)"
    # After a loop back the date leads, so that it never runs into the value.
    best_of = f"{metric} {number(value)} {who}"
    stated = f"Since {moved_back}, best {best_of}" if moved_back else f"Best {best_of}"
    if verdict.met:
        message = f"{stated} meets {verdict.wanted}."
    else:
        message = f"{stated} is {number(verdict.gap)} short of {verdict.wanted}."
    return Criterion(
        EVIDENCE,
        outcome.name,
        verdict.met,
        message,
        evidence=_evidence(project, run=run, value=value, gap=verdict.gap),
    )
