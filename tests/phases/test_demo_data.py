"""The demo portfolio: what `make run` shows on a fresh checkout, loaded through the services."""

import contextlib
import dataclasses
import datetime as dt
import importlib.util
import io
import re
import stat
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from phases.choices import Health, PhaseStatus, ReviewStatus, Role, TaskStatus, TransitionKind
from phases.management import portfolio as demo
from phases.management import steps
from phases.management.commands import demo_data
from phases.models import (
    Membership,
    Outcome,
    Phase,
    PhaseTemplate,
    Project,
    Task,
    Transition,
)
from phases.roles import managed_projects
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = [p.username for p in (*demo.LOGIN_USERS, *demo.TEAM)]


@contextlib.contextmanager
def demo_settings(var_dir: Path) -> Iterator[Path]:
    """What a demo load in a test writes to and checks: a private var dir, debug on."""
    with (
        override_settings(
            VAR_DIR=var_dir,
            EXPERIMENTS_DATASET_ROOT=var_dir / "datasets",
            DEBUG=True,
            # The demo hashes one password and the tests check it often: spare the slow hasher.
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        monkeypatch.delenv(demo_data.ENV_VAR, raising=False)
        yield var_dir


@pytest.fixture
def var_dir(tmp_path):
    with demo_settings(tmp_path):
        yield tmp_path


@pytest.fixture(scope="class")
def demo_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """The whole demo loaded once for a class of tests, rolled back after the last of them.

    A load runs every app's step (real sweep trials among them) and takes tens of seconds;
    the tests of such a class read it, and what one of them changes its own savepoint
    undoes (each test's transaction nests inside this one)."""
    var = tmp_path_factory.mktemp("demo")
    with django_db_blocker.unblock(), demo_settings(var), transaction.atomic():
        yield SimpleNamespace(output=load(), var_dir=var)
        transaction.set_rollback(True)


@pytest.fixture
def portfolio_only(monkeypatch):
    """Loads build the lifecycle portfolio without the apps' steps: for tests of the
    command itself (passwords, safety), which the apps' data does not concern."""
    monkeypatch.setattr(steps, "steps", list)


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_data", *args, stdout=out)
    return out.getvalue()


class LoadedOnce:
    """Tests of one demo load: ``loaded`` is the command's output, ``var_dir`` its files."""

    @pytest.fixture
    def loaded(self, demo_once):
        return demo_once.output

    @pytest.fixture
    def var_dir(self, demo_once):
        return demo_once.var_dir


def credentials(var_dir: Path) -> str:
    return (var_dir / demo_data.CREDENTIALS_FILE).read_text(encoding="utf-8")


def password_in(text: str) -> str:
    line = next(line for line in text.splitlines() if line.startswith("Password: "))
    return line.removeprefix("Password: ")


def counts() -> dict[str, int]:
    models = (Project, Phase, Task, Outcome, Transition, Membership, get_user_model())
    return {model.__name__: model.objects.count() for model in models}


# --- The portfolio ----------------------------------------------------------------------


class TestThePortfolio(LoadedOnce):
    def test_about_a_dozen_projects_cover_every_phase_of_both_lifecycles(self, loaded):
        assert 10 <= Project.objects.count() <= 14
        for slug in (demo.ML_DEVELOPMENT, demo.MLOPS):
            phases = set(PhaseTemplate.objects.filter(lifecycle__slug=slug).values_list("pk"))
            occupied = set(
                Project.objects.filter(lifecycle__slug=slug).values_list("current_phase__template")
            )
            assert len(phases) == 4
            assert occupied == phases

    def test_every_project_has_one_active_phase_and_points_at_it(self, loaded):
        """Unless it is completed: then it points at the phase it finished in."""
        for project in Project.objects.all():
            active = list(project.phases.filter(status=PhaseStatus.ACTIVE))
            if project.completed_at is not None:
                assert active == [], project
                assert project.current_phase.status == PhaseStatus.COMPLETED
                continue
            assert len(active) == 1, project
            assert project.current_phase_id == active[0].pk
            assert project.transitions.last().to_phase_id == active[0].pk

    def test_exactly_one_project_looped_back_from_productionization_for_data_drift(self, loaded):
        loops = Transition.objects.filter(
            kind=TransitionKind.BACK,
            from_phase__name="Productionization",
            to_phase__name="Experimentation",
        )
        assert loops.values("project").distinct().count() == 1
        loop = loops.get()
        assert "data drift" in loop.reason.lower()
        assert loop.project.current_phase.name == "Experimentation"
        reopened = Outcome.objects.get(phase=loop.project.current_phase)
        assert reopened.review_status == ReviewStatus.PENDING

    def test_health_is_green_for_some_and_amber_or_red_for_others(self, loaded):
        projects = list(Project.objects.all())
        assert {p.health for p in projects} == set(Health.values)
        for project in projects:
            assert project.health_checked_at is not None
            assert bool(project.health_reasons) == (project.health != Health.GREEN), project

    def test_one_project_is_completed_and_a_loop_back_was_re_planned(self, loaded):
        done = Project.objects.get(completed_at__isnull=False)
        assert done.health == Health.GREEN and done.health_reasons == []
        last = done.transitions.order_by("created_at").last()
        assert last.kind == TransitionKind.COMPLETE and last.created_at == done.completed_at
        assert done.current_phase.status == PhaseStatus.COMPLETED
        fraud = Project.objects.get(slug="card-fraud-detection")
        forecast = max(fraud.phases.values_list("due_date", flat=True))
        assert fraud.planned_finish < forecast
        assert fraud.current_phase.due_date > timezone.localdate()
        labelled = Project.objects.exclude(success_metric_label="")
        assert labelled.count() >= 3 and Project.objects.filter(success_metric_label="").exists()

    def test_status_pages_forecast_no_finish_in_the_past_and_no_slip_that_never_was(self, loaded):
        """What the status pages print: an unfinished project, however late, finishes today
        at the earliest; one that has not moved since it started keeps its first plan."""
        client = Client()
        client.force_login(get_user_model().objects.get(username="admin"))
        today = timezone.localdate()
        for spec in demo.PORTFOLIO:
            html = client.get(reverse("dashboard:project", args=[spec.slug])).content.decode()
            finish = re.search(r'data-testid="finish">(.*?)</p>', html, re.S).group(1)
            if finish.startswith("Completed"):
                continue
            forecast = re.search(r'<time datetime="([\d-]+)">', finish).group(1)
            assert dt.date.fromisoformat(forecast) >= today, (spec.name, finish)
            if not spec.history:
                assert finish.endswith(", as originally planned."), (spec.name, finish)

    def test_the_demo_manager_manages_five_projects_and_opens_the_admin(self, loaded):
        manager = get_user_model().objects.get(username="manager")
        assert managed_projects(manager).count() == 5
        client = Client()
        client.force_login(manager)
        assert client.get(reverse("admin:index")).status_code == 200
        page = client.get(reverse("admin:phases_project_changelist"))
        assert page.context["cl"].result_count == 5

    def test_work_is_assigned_reviewed_and_sometimes_stuck(self, loaded):
        started = Task.objects.filter(phase__started_at__isnull=False)
        assert started.exists() and not started.filter(assignee=None).exists()
        statuses = set(Task.objects.filter(phase__status=PhaseStatus.ACTIVE).values_list("status"))
        assert {(TaskStatus.IN_PROGRESS,), (TaskStatus.BLOCKED,), (TaskStatus.DONE,)} <= statuses
        reviews = set(Outcome.objects.values_list("review_status", flat=True))
        assert {ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED, ReviewStatus.REJECTED} <= reviews
        rejected = Outcome.objects.get(review_status=ReviewStatus.REJECTED)
        assert rejected.review_note and rejected.reviewer == rejected.phase.project.owner

    def test_every_project_has_members_in_all_three_roles(self, loaded):
        for project in Project.objects.all():
            roles = set(project.memberships.values_list("role", flat=True))
            assert roles == set(Role.values), project
            assert project.memberships.get(user=project.owner).role == Role.MANAGER

    def test_demo_users_match_their_names(self, loaded):
        users = get_user_model().objects.in_bulk(DEMO_USERNAMES, field_name="username")
        assert users["admin"].is_superuser and users["admin"].is_staff
        for role in Role.values:
            user = users[role]
            # The manager opens the admin, for the projects they manage; nobody else does.
            assert user.is_staff == (role == Role.MANAGER) and not user.is_superuser
            assert set(user.memberships.values_list("role", flat=True)) == {role}
        assert all(users[p.username].get_full_name() for p in demo.TEAM)

    def test_history_is_backdated_consistently(self, loaded):
        now = timezone.now()
        for project in Project.objects.all():
            moves = list(project.transitions.order_by("id"))
            times = [t.created_at for t in moves]
            assert times == sorted(times) and len(set(times)) == len(times), project
            assert times[-1] < now
            assert moves[0].kind == TransitionKind.START
            assert project.created_at == times[0]
            for phase in project.phases.all():
                # A completion stays in its phase: it ends the stay there, it starts none.
                entries = [
                    t.created_at
                    for t in moves
                    if t.to_phase_id == phase.pk and t.kind != TransitionKind.COMPLETE
                ]
                exits = [t.created_at for t in moves if t.from_phase_id == phase.pk]
                assert phase.started_at == (entries[-1] if entries else None), phase
                last_exit = exits[-1] if exits and exits[-1] > entries[-1] else None
                assert phase.ended_at == last_exit, phase
                reviewed = phase.outcomes.exclude(review_status=ReviewStatus.PENDING)
                for outcome in reviewed:
                    assert phase.started_at < outcome.submitted_at < (phase.ended_at or now)
        oldest = Transition.objects.order_by("created_at").first().created_at
        assert (now - oldest).days > 180


# --- Running it again -------------------------------------------------------------------


def test_if_empty_loads_an_empty_database(var_dir, portfolio_only):
    load("--if-empty")
    assert Project.objects.count() == len(demo.PORTFOLIO)


class TestLoadingAgain(LoadedOnce):
    def test_if_empty_does_nothing_the_second_time_but_shows_the_login(self, loaded, var_dir):
        before, text = counts(), credentials(var_dir)
        output = load("--if-empty")
        assert counts() == before
        assert credentials(var_dir) == text
        assert demo_data.site_url() in output
        assert password_in(text) in output

    def test_a_second_full_run_refuses_rather_than_duplicating(self, loaded):
        before = counts()
        with pytest.raises(CommandError, match="loaded already"):
            load()
        assert counts() == before


# --- Credentials ------------------------------------------------------------------------


def test_the_login_address_is_on_the_port_make_run_was_given(monkeypatch):
    monkeypatch.setenv("MLPROJECTS_PORT", "8765")
    assert demo_data.site_url() == "http://127.0.0.1:8765/"
    monkeypatch.delenv("MLPROJECTS_PORT")
    assert demo_data.site_url() == "http://127.0.0.1:8000/"


class TestCredentials(LoadedOnce):
    def test_credentials_file_is_private_and_opens_every_demo_account(self, loaded, var_dir):
        path = var_dir / demo_data.CREDENTIALS_FILE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = credentials(var_dir)
        password = password_in(text)
        assert len(password) >= 12
        assert password in loaded and demo_data.site_url() in text
        for user in get_user_model().objects.filter(username__in=DEMO_USERNAMES):
            assert user.check_password(password), user
        for module in (demo, demo_data):
            assert password not in Path(module.__file__).read_text(encoding="utf-8")

    def test_a_stored_password_is_reused(self, loaded, var_dir):
        password = password_in(credentials(var_dir))
        Project.objects.all().delete()
        get_user_model().objects.filter(username__in=DEMO_USERNAMES).delete()

        load()

        assert password_in(credentials(var_dir)) == password
        assert get_user_model().objects.get(username="viewer").check_password(password)


def test_a_password_from_the_environment_is_used_and_not_written(
    var_dir, portfolio_only, monkeypatch
):
    chosen = "demo-from-environment-42"
    monkeypatch.setenv(demo_data.ENV_VAR, chosen)
    output = load()
    text = credentials(var_dir)
    assert chosen not in text and chosen not in output
    assert demo_data.ENV_VAR in text
    assert get_user_model().objects.get(username="manager").check_password(chosen)


def test_an_existing_account_keeps_its_password_and_rights(var_dir, portfolio_only):
    UserFactory(username="admin")
    load()
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("correct-horse-battery")
    assert not admin.is_superuser
    assert "kept their own password: admin" in credentials(var_dir)


# --- Safety -----------------------------------------------------------------------------


def test_refuses_with_debug_off_unless_forced(var_dir, portfolio_only, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        load()
    with pytest.raises(CommandError, match="DEBUG off"):
        load("--if-empty")
    assert Project.objects.count() == 0
    assert not (var_dir / demo_data.CREDENTIALS_FILE).exists()

    load("--force")
    assert Project.objects.count() == len(demo.PORTFOLIO)


def test_a_broken_spec_leaves_nothing_behind(var_dir, portfolio_only, monkeypatch):
    broken = dataclasses.replace(demo.PORTFOLIO[-1], started_days_ago=3)
    monkeypatch.setattr(demo, "PORTFOLIO", (*demo.PORTFOLIO[:-1], broken))
    with pytest.raises(CommandError, match=broken.name):
        load()
    assert not Project.objects.exists()
    assert not get_user_model().objects.exists()
    assert not (var_dir / demo_data.CREDENTIALS_FILE).exists()


# --- Demo steps of other apps -------------------------------------------------------------


def with_demo_apps(monkeypatch, *names: str) -> None:
    """The installed apps, then stand-in apps that ship a demo step, in that order."""
    installed = list(apps.get_app_configs())
    extra = [
        SimpleNamespace(
            name=f"tests.phases.demo_apps.{name}",
            label=f"demo_{name}",
            module=import_module(f"tests.phases.demo_apps.{name}"),
        )
        for name in names
    ]
    monkeypatch.setattr(steps.apps, "get_app_configs", lambda: [*installed, *extra])


def has_step(config) -> bool:
    try:
        return importlib.util.find_spec(f"{config.name}.management.demo") is not None
    except ModuleNotFoundError:  # no management package at all
        return False


def test_every_installed_app_with_a_step_module_is_found(monkeypatch):
    with_demo_apps(monkeypatch, "good")

    found = [label for label, _ in steps.steps()]

    assert found == [config.label for config in steps.apps.get_app_configs() if has_step(config)]
    assert found[-1] == "demo_good"


def test_an_app_step_adds_to_the_built_portfolio_through_the_services(var_dir, monkeypatch):
    with_demo_apps(monkeypatch, "good")

    out = load()

    draw = steps.rng_for("demo_good").random()
    project = Project.objects.get(slug="subscriber-churn-early-warning")
    assert project.current_phase.tasks.filter(title=f"Demo step task {draw:.6f}").exists()
    assert f"Good step: 1 task on {project.name}, drew {draw:.6f}." in out
    assert out.index("demo projects") < out.index("Good step")


def test_a_step_without_build_is_refused_and_leaves_nothing(var_dir, monkeypatch):
    with_demo_apps(monkeypatch, "broken")

    with pytest.raises(ImproperlyConfigured, match="must define build"):
        load()
    assert not Project.objects.exists()
    assert not (var_dir / demo_data.CREDENTIALS_FILE).exists()


def test_each_app_draws_from_its_own_seeded_generator():
    assert steps.rng_for("experiments").random() == steps.rng_for("experiments").random()
    assert steps.rng_for("experiments").random() != steps.rng_for("registry").random()
