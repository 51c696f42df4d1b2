"""The evidence rule about production monitors, for the gates of ``phases``, registered in
``MonitoringConfig.ready``.

**The production deployment's monitors have been ok for N days** (N is
``MONITORING_GATE_OK_DAYS``, 14 unless set), meant for the last phase's gate. Decided:

- *What is judged*: the project's current deployment, which must have been in production
  for N days at least, and every enabled monitor of the project (project health included).
- *Ok* means: over the last N days, each monitor has at least one ``ok`` result, none is
  ``alert`` or ``error``, and no alert is open. Warnings and "not enough data" do not
  break the rule (a warning is below every alert threshold), but a monitor with nothing
  but them has shown nothing, so it is not ok.

Five queries, whatever the number of monitors and results.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from monitoring.choices import OPEN_ALERT_STATES, ResultStatus
from monitoring.models import Alert, Deployment, Monitor, Result
from phases.gates import EVIDENCE, Criterion
from phases.models import Outcome


def _names(monitors) -> str:
    names = [f"“{m.name}”" for m in monitors]
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def production_monitors_ok(outcome: Outcome, *, now: dt.datetime | None = None) -> Criterion:
    now = now or timezone.now()
    days = settings.MONITORING_GATE_OK_DAYS
    since = now - dt.timedelta(days=days)
    project_id = (
        Outcome.objects.filter(pk=outcome.pk).values_list("phase__project_id", flat=True).get()
    )
    evidence = {"days": days, "deployment": None, "monitors": {}}

    def unmet(message: str) -> Criterion:
        return Criterion(EVIDENCE, outcome.name, False, message, evidence=evidence)

    deployment = Deployment.objects.filter(project_id=project_id, ended_at__isnull=True).first()
    if deployment is None:
        return unmet("Nothing of this project is in production, so no monitor can vouch for it.")
    evidence["deployment"] = deployment.name
    if deployment.started_at > since:
        age = (now - deployment.started_at).days
        return unmet(
            f"{deployment.name} has been in production for {age} days; its monitors must have "
            f"been ok for {days}."
        )
    monitors = list(Monitor.objects.filter(project_id=project_id, enabled=True).order_by("name"))
    if not monitors:
        return unmet(f"{deployment.name} has no enabled monitor to vouch for it.")
    counts: dict[int, dict[str, int]] = {m.pk: {} for m in monitors}
    rows = (
        Result.objects.filter(monitor__in=monitors, window_end__gt=since, window_start__lt=now)
        .values("monitor_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["monitor_id"]][row["status"]] = row["n"]
    open_alerts = set(
        Alert.objects.filter(monitor__in=monitors, state__in=OPEN_ALERT_STATES).values_list(
            "monitor_id", flat=True
        )
    )
    evidence["monitors"] = {m.name: counts[m.pk] for m in monitors}
    failing = [
        m
        for m in monitors
        if counts[m.pk].get(ResultStatus.ALERT) or counts[m.pk].get(ResultStatus.ERROR)
    ]
    silent = [m for m in monitors if not counts[m.pk].get(ResultStatus.OK)]
    alerting = [m for m in monitors if m.pk in open_alerts]
    problems = []
    if alerting:
        problems.append(
            f"{_names(alerting)} {'has' if len(alerting) == 1 else 'have'} an open alert"
        )
    if failing:
        problems.append(f"{_names(failing)} reported alerts or errors in the last {days} days")
    if silent:
        problems.append(f"{_names(silent)} reported no ok result in the last {days} days")
    if problems:
        return unmet(
            f"The monitors of {deployment.name} have not been ok for {days} days: "
            + "; ".join(problems)
            + "."
        )
    return Criterion(
        EVIDENCE,
        outcome.name,
        True,
        f"All {len(monitors)} monitors of {deployment.name} have been ok for the last {days} days.",
        evidence=evidence,
    )
