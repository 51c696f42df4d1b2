"""Load the demo portfolio so a fresh checkout shows a living portfolio on its first start.

The projects of :mod:`phases.management.portfolio` are replayed through the lifecycle
services, so every invariant holds exactly as it does for real work. The services stamp
"now" on what they write; only afterwards is each project's clock moved back, consistently,
so its history reads as months of work: a phase starts when the transition into it
happened, ends when the transition out of it happened, and reviews and task changes fall
inside their phase.

Then every installed app adds its own demo data, in ``INSTALLED_APPS`` order: an app with a
module ``<app>/management/demo.py`` defining ``build(*, portfolio, rng) -> str`` gets the
built portfolio (``steps.Built``: projects by slug, users by username, and "now") and a
generator seeded for it, writes through its own services, and returns a line for the
summary. Everything happens in one transaction. See :mod:`phases.management.steps`.
"""

import datetime as dt
import itertools
import os
import secrets
from collections import Counter, defaultdict
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Model
from django.utils import timezone
from django.utils.text import slugify

from mlprojects.exceptions import DomainError
from phases import selectors, services
from phases.choices import Health, PhaseStatus, ReviewStatus, Role, TaskStatus, TransitionKind
from phases.management import portfolio as demo
from phases.management import steps
from phases.models import LifecycleTemplate, Membership, Outcome, Phase, Project, Task, Transition

ENV_VAR = "MLPROJECTS_DEMO_PASSWORD"
# `make run` and `make dev` export the port web listens on (8000 unless told otherwise).
PORT_VAR = "MLPROJECTS_PORT"
CREDENTIALS_FILE = "demo-credentials.txt"
_LOGIN_LABEL = "Password: "


class Command(BaseCommand):
    help = "Create a demo portfolio of ML projects, and the users to log in as."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when any project exists, so `make run` can call it on every start.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off; the demo users share one password.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "demo_data refuses to run with DEBUG off: it creates users who share one "
                "password. Pass --force if this instance really is a demo."
            )
        path = Path(settings.VAR_DIR) / CREDENTIALS_FILE
        if options["if_empty"] and Project.objects.exists():
            self.stdout.write("Projects exist already; demo data not loaded.")
            if path.exists():
                self.stdout.write(path.read_text(encoding="utf-8"))
            else:
                self.stdout.write(f"No demo credentials in {path}: log in with your own account.")
            return
        slugs = [spec.slug for spec in demo.PORTFOLIO]
        taken = sorted(Project.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        if taken:
            raise CommandError(f"The demo portfolio is loaded already: {', '.join(taken)}.")

        from_env = os.environ.get(ENV_VAR, "")
        password = from_env or _stored_password(path) or secrets.token_urlsafe(12)
        with transaction.atomic():
            users, kept = _users(password)
            now = timezone.now()
            projects = [_Replay(spec, users=users, now=now).run() for spec in demo.PORTFOLIO]
            services.project_health_refresh(project_ids=[p.pk for p in projects])
            built = steps.Built(
                projects={project.slug: project for project in projects}, users=users, now=now
            )
            added = steps.run(built)
            text = _credentials(None if from_env else password, users=users, kept=kept)
            _write_private(path, text)

        health = Counter(
            Project.objects.filter(pk__in=[p.pk for p in projects]).values_list("health", flat=True)
        )
        mix = ", ".join(f"{health[h]} {h}" for h in Health.values)
        self.stdout.write(self.style.SUCCESS(f"Created {len(projects)} demo projects: {mix}."))
        for line in added:
            self.stdout.write(self.style.SUCCESS(line))
        self.stdout.write(f"Credentials saved in {path}\n")
        self.stdout.write(text)


# --- Users and credentials --------------------------------------------------------------


def _users(password: str) -> tuple[dict[str, Model], list[str]]:
    """Create the demo users; an account that exists already keeps its own password and
    rights, so loading the demo never takes over someone's real login."""
    user_model = get_user_model()
    # One hash for all: they share the password anyway, and hashing is the slow part.
    hashed = make_password(password)
    users, kept = {}, []
    for person in (*demo.LOGIN_USERS, *demo.TEAM):
        user, created = user_model.objects.get_or_create(
            username=person.username,
            defaults={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": f"{person.username}@example.com",
                "is_staff": person.superuser or person.staff,
                "is_superuser": person.superuser,
                "password": hashed,
            },
        )
        if not created:
            kept.append(person.username)
        users[person.username] = user
    return users, kept


def _stored_password(path: Path) -> str | None:
    """The password a previous run generated, so restarts keep the same login."""
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(_LOGIN_LABEL):
            value = line.removeprefix(_LOGIN_LABEL).strip()
            # A sentence names the environment variable instead: nothing to reuse.
            return value if value and " " not in value else None
    return None


def site_url() -> str:
    """Where the site listens when `make run` or `make dev` started it."""
    return f"http://127.0.0.1:{os.environ.get(PORT_VAR) or 8000}/"


def _credentials(password: str | None, *, users: dict[str, Model], kept: list[str]) -> str:
    """The text of the credentials file; a password from the environment is named, never
    copied to disk."""
    roles = defaultdict(dict)
    for row in (
        Membership.objects.filter(user__username__in=[p.username for p in demo.LOGIN_USERS])
        .values("user__username", "role")
        .annotate(n=Count("id"))
    ):
        roles[row["user__username"]][row["role"]] = row["n"]
    site = site_url()
    lines = [
        "mlprojects demo users (written by `manage.py demo_data`; keep this file private)",
        f"Log in at {site} (dashboard) or {site}admin/ (admin, for admin and manager)",
        f"{_LOGIN_LABEL}{password or f'the value of {ENV_VAR}'}",
        "",
    ]
    for person in demo.LOGIN_USERS:
        user = users[person.username]
        if user.is_superuser:
            rights = "superuser, manages every project in the admin"
        else:
            rights = ", ".join(
                f"{Role(role).label.lower()} in {n} project{'s' if n > 1 else ''}"
                for role, n in sorted(roles[person.username].items())
            )
        if person.staff and not user.is_superuser:
            rights += "; in the admin too, for the projects they manage"
        lines.append(f"  {person.username:<12} {person.about}: {rights or 'no projects'}")
    lines.append("")
    lines.append("Team members, same password: " + ", ".join(p.username for p in demo.TEAM))
    if kept:
        lines.append("Existing accounts kept their own password: " + ", ".join(kept))
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        # A file left by an older run may carry wider permissions than the mode above.
        os.fchmod(file.fileno(), 0o600)
        file.write(text)


# --- The interpreter --------------------------------------------------------------------


def _at(start: dt.datetime, end: dt.datetime, fraction: float) -> dt.datetime:
    return start + (end - start) * fraction


class _Replay:
    """Plays one project spec through the services, then moves its clock back."""

    def __init__(self, spec: demo.ProjectSpec, *, users: dict[str, Model], now: dt.datetime):
        self.spec = spec
        self.users = users
        self.now = now
        self.today = timezone.localdate(now)
        self.owner = users[spec.owner]
        if spec.owner in spec.team:
            raise self._error("the owner is a manager already; leave them out of the team")
        contributors = [users[u] for u, role in spec.team.items() if role == Role.CONTRIBUTOR]
        if not contributors:
            raise self._error("the team needs a contributor to work on the tasks")
        self.next_contributor = itertools.cycle(contributors)
        self.history: list[tuple[Transition, dt.datetime]] = []
        self.stamps: dict[tuple[type[Model], int], dict[str, dt.datetime]] = defaultdict(dict)
        self.task_due: dict[int, dt.date] = {}

    def _error(self, message: str) -> CommandError:
        return CommandError(f"Demo project “{self.spec.name}”: {message}.")

    def run(self) -> Project:
        try:
            return self._run()
        except DomainError as error:
            raise self._error(str(error)) from error

    def _run(self) -> Project:
        spec = self.spec
        started = self.now - dt.timedelta(days=spec.started_days_ago)
        project = services.project_create(
            lifecycle=LifecycleTemplate.objects.get(slug=spec.lifecycle),
            name=spec.name,
            slug=spec.slug,
            description=spec.description,
            owner=self.owner,
            by=self.owner,
            success_metric=spec.metric,
            success_metric_label=spec.metric_label,
            success_target=spec.target,
            success_direction=spec.direction,
            start_date=timezone.localdate(started),
        )
        for username, role in spec.team.items():
            services.membership_set(project=project, user=self.users[username], role=role)
        outcomes = list(Outcome.objects.filter(phase__project=project))
        for part in spec.waived:
            waived = self._pick(outcomes, part, project.current_phase)
            services.outcome_update(outcome=waived, by=self.owner, required=False)
        self.history.append((project.transitions.get(), started))

        entered = started
        for step in spec.history:
            if step.days < 1:
                raise self._error("every step of the history takes at least a day")
            left = entered + dt.timedelta(days=step.days)
            phase = self._active(project)
            self._finish_tasks(phase, entered, left)
            if isinstance(step, demo.Advance | demo.Complete):
                for outcome in phase.outcomes.exclude(review_status=ReviewStatus.ACCEPTED):
                    self._review(outcome, ReviewStatus.ACCEPTED, phase, entered, left)
            if isinstance(step, demo.Advance):
                transition = services.phase_advance(
                    project=project, by=self.owner, reason=step.reason
                )
            elif isinstance(step, demo.Complete):
                transition = services.project_complete(
                    project=project, by=self.owner, reason=step.reason
                )
            else:
                transition = services.phase_move_back(
                    project=project,
                    to_phase=self._phase(project, step.to),
                    by=self.owner,
                    reason=step.reason,
                )
                self._replanned_on(project, transition.to_phase, left)
            self.history.append((transition, left))
            entered = left
        if entered >= self.now:
            raise self._error("the history takes longer than started_days_ago")

        project.refresh_from_db()
        if project.completed_at is None:
            phase = self._active(project)
            self._work_today(phase, entered)
            self._replan(project, phase, entered)
        self._move_clock_back(project, started)
        return project

    # --- Steps --------------------------------------------------------------------------

    def _active(self, project: Project) -> Phase:
        return Phase.objects.get(project=project, status=PhaseStatus.ACTIVE)

    def _phase(self, project: Project, name: str) -> Phase:
        phase = project.phases.filter(name=name).first()
        if phase is None:
            raise self._error(f"the lifecycle has no phase named “{name}”")
        return phase

    def _member(self, username: str) -> Model:
        if username != self.spec.owner and username not in self.spec.team:
            raise self._error(f"{username} is not on the team")
        return self.users[username]

    def _assign(self, task: Task, username: str = "") -> Model:
        """Name who does the task: the spec's choice, else the next contributor in turn."""
        if username:
            who = self._member(username)
        elif task.assignee_id:
            return task.assignee
        else:
            who = next(self.next_contributor)
        if task.assignee_id != who.pk:
            services.task_update(task=task, by=self.owner, assignee=who)
            task.assignee = who
        return who

    def _set_status(self, task: Task, status: str, at: dt.datetime, by: Model) -> None:
        if task.status != status:
            services.task_set_status(task=task, status=status, by=by)
            self.stamps[(Task, task.pk)]["updated_at"] = at

    def _finish_tasks(self, phase: Phase, entered: dt.datetime, left: dt.datetime) -> None:
        tasks = list(phase.tasks.select_related("assignee"))
        for n, task in enumerate(tasks, start=1):
            who = self._assign(task)
            self._set_status(task, TaskStatus.DONE, _at(entered, left, n / (len(tasks) + 2)), who)

    def _review(
        self,
        outcome: Outcome,
        status: str,
        phase: Phase,
        entered: dt.datetime,
        until: dt.datetime,
        note: str = "",
    ) -> None:
        """Submit the outcome as the phase's first assignee, then review it as the owner."""
        if status == ReviewStatus.PENDING:
            return
        first = phase.tasks.exclude(assignee=None).select_related("assignee").first()
        author = first.assignee if first else self.owner
        evidence = f"https://wiki.example.com/ml/{self.spec.slug}/{slugify(phase.name)}"
        services.outcome_submit(outcome=outcome, by=author, evidence_url=evidence)
        self.stamps[(Outcome, outcome.pk)]["submitted_at"] = _at(entered, until, 0.8)
        if status == ReviewStatus.SUBMITTED:
            return
        if status == ReviewStatus.ACCEPTED:
            services.outcome_accept(outcome=outcome, by=self.owner, note=note)
        else:
            services.outcome_reject(outcome=outcome, by=self.owner, note=note)
        self.stamps[(Outcome, outcome.pk)]["reviewed_at"] = _at(entered, until, 0.9)

    def _pick(self, items: list, part: str, phase: Phase) -> Model:
        found = [item for item in items if part.lower() in str(item).lower()]
        if len(found) != 1:
            raise self._error(f"{len(found)} items of {phase.name} match “{part}”, not one")
        return found[0]

    def _work_today(self, phase: Phase, entered: dt.datetime) -> None:
        tasks = list(phase.tasks.select_related("assignee"))
        for n, want in enumerate(self.spec.tasks, start=1):
            at = _at(entered, self.now, n / (len(self.spec.tasks) + 2))
            if want.new:
                task = services.task_create(
                    phase=phase,
                    by=self.owner,
                    title=want.title,
                    priority=want.priority,
                    order=len(tasks) + 1,
                )
                tasks.append(task)
                self.stamps[(Task, task.pk)]["created_at"] = _at(entered, at, 0.5)
                self.stamps[(Task, task.pk)]["updated_at"] = _at(entered, at, 0.5)
            else:
                task = self._pick(tasks, want.title, phase)
            who = self._assign(task, want.assignee)
            self._set_status(task, want.status, at, who)
            if want.due_in_days is not None:
                self.task_due[task.pk] = self.today + dt.timedelta(days=want.due_in_days)
        for task in tasks:
            self._assign(task)
        outcomes = list(phase.outcomes.all())
        for want in self.spec.outcomes:
            outcome = self._pick(outcomes, want.name, phase)
            self._review(outcome, want.status, phase, entered, self.now, want.note)

    def _replan(self, project: Project, phase: Phase, entered: dt.datetime) -> None:
        """Re-plan the active phase from when it really started, and the phases after it,
        as a manager does in the admin when the project runs early, late or loops back."""
        start = timezone.localdate(entered)
        if self.spec.due_in_days is None:
            # On plan: as many days from its real start as the phase was planned to take.
            due = selectors.reopened_due(phase=phase, today=start)
        else:
            due = self.today + dt.timedelta(days=self.spec.due_in_days)
        if due < start:
            raise self._error("the active phase would be due before it started")
        plans = [(phase, start, due)]
        for later in project.phases.filter(order__gt=phase.order).select_related("template"):
            start = due + dt.timedelta(days=1)
            due = start + dt.timedelta(days=max(later.template.expected_days, 1) - 1)
            plans.append((later, start, due))
        for planned, start, due in plans:
            services.phase_update(phase=planned, by=self.owner, start_date=start, due_date=due)
            for task in planned.tasks.all():
                task_due = self.task_due.get(task.pk, due)
                if task.due_date != task_due:
                    services.task_update(task=task, by=self.owner, due_date=task_due)

    def _replanned_on(self, project: Project, reopened: Phase, moved: dt.datetime) -> None:
        """The loop back re-planned the phases from today; move that plan to the day of the
        move, as if the manager had answered the move-back form then."""
        shift = dt.timedelta(days=(self.today - timezone.localdate(moved)).days)
        for phase in project.phases.filter(order__gte=reopened.order):
            if phase.start_date and phase.due_date:
                services.phase_update(
                    phase=phase,
                    by=self.owner,
                    start_date=phase.start_date - shift,
                    due_date=phase.due_date - shift,
                )

    def _move_clock_back(self, project: Project, started: dt.datetime) -> None:
        Project.objects.filter(pk=project.pk).update(created_at=started)
        Membership.objects.filter(project=project).update(created_at=started)
        Task.objects.filter(phase__project=project).update(created_at=started, updated_at=started)
        entered, left = {}, {}
        completed = None
        for transition, at in self.history:
            transition.created_at = at
            if transition.kind == TransitionKind.COMPLETE:
                completed = at
            else:
                entered[transition.to_phase_id] = at
            if transition.from_phase_id:
                left[transition.from_phase_id] = at
        if completed is not None:
            Project.objects.filter(pk=project.pk).update(completed_at=completed)
        Transition.objects.bulk_update([t for t, _ in self.history], ["created_at"])
        # What the services would have stamped: the last entry, and the last exit if the
        # phase was left after it.
        phases = [
            Phase(
                pk=pk,
                started_at=started_at,
                ended_at=left[pk] if left.get(pk, started_at) > started_at else None,
            )
            for pk, started_at in entered.items()
        ]
        Phase.objects.bulk_update(phases, ["started_at", "ended_at"])
        batches = defaultdict(list)
        for (model, pk), fields in self.stamps.items():
            batches[(model, tuple(sorted(fields)))].append(model(pk=pk, **fields))
        for (model, fields), rows in batches.items():
            model.objects.bulk_update(rows, fields)
