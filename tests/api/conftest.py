"""Fixtures of the API tests: one project with a member of every role, an outsider, a staff
user, a stranger's project beside it, and bearer tokens for every caller.

Throttle budgets live in the cache, which outlives a test (and DRF reads its rates once, at
import, so the settings fixture cannot raise them): fixtures here start from a clear cache.
"""

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken
from api.services import token_create
from api.v1.urls import router
from experiments import services as experiments
from experiments.models import Experiment, Run
from phases import services
from phases.choices import Role
from phases.models import Membership, Outcome, Phase, Project, Task, Transition
from tests.factories import UserFactory, make_project

ANONYMOUS = "anonymous"
OUTSIDER = "non-member"
STAFF = "staff"
CALLERS = (ANONYMOUS, OUTSIDER, Role.VIEWER, Role.CONTRIBUTOR, Role.MANAGER, STAFF)


def bearer(secret: str | None = None) -> APIClient:
    """An API client that sends ``Authorization: Bearer <secret>``; anonymous without one."""
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@dataclass
class World:
    """``project`` has a manager (its owner), a contributor, a viewer and one more viewer
    (``extra``, whose membership the membership endpoints act on), and an experiment with a
    run that logged a metric; ``other`` belongs to a stranger and has the same. The outsider
    and staff are members of nothing. Each caller holds two tokens, ``main`` to authenticate
    with and ``spare`` for the token endpoints to act on."""

    project: Project
    other: Project
    users: dict[str, object]
    secrets: dict[str, str]
    newcomer: object

    @property
    def phase(self) -> Phase:
        return self.project.phases.order_by("order").first()

    @property
    def task(self) -> Task:
        return self.phase.tasks.order_by("order", "id").first()

    @property
    def outcome(self) -> Outcome:
        return self.phase.outcomes.order_by("order", "id").first()

    @property
    def extra(self) -> Membership:
        return self.project.memberships.get(user=self.users["extra"])

    @property
    def start(self) -> Transition:
        return self.project.transitions.get(from_phase__isnull=True)

    @property
    def experiment(self) -> Experiment:
        return self.project.experiments.get(name="baseline")

    @property
    def run(self) -> Run:
        return Run.objects.get(experiment=self.experiment)

    def user(self, caller: str):
        """The user behind ``caller``; the manager stands in for the anonymous caller, whose
        requests never reach an object."""
        return self.users.get(caller, self.users[Role.MANAGER])

    def spare(self, caller: str) -> ApiToken:
        return ApiToken.objects.get(user=self.user(caller), name="spare")

    def client(self, caller: str) -> APIClient:
        return bearer(None if caller == ANONYMOUS else self.secrets[caller])


@pytest.fixture
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def unthrottled(monkeypatch, fresh_throttles):
    """For a fuzzer's burst of requests; ``monkeypatch`` puts DRF's rates back afterwards."""
    rates = {"token": "1000000/min", "anon": "1000000/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.fixture
def world(db, fresh_throttles, fast_passwords) -> World:
    manager = UserFactory(username="manager")
    project = make_project(owner=manager, name="Churn model", success_metric="val_auc")
    users = {Role.MANAGER: manager}
    for role in (Role.VIEWER, Role.CONTRIBUTOR):
        users[role] = UserFactory(username=str(role))
        services.membership_set(project=project, user=users[role], role=role)
    users["extra"] = UserFactory(username="extra")
    services.membership_set(project=project, user=users["extra"], role=Role.VIEWER)
    users[OUTSIDER] = UserFactory(username="outsider")
    users[STAFF] = UserFactory(username="staff", is_staff=True, is_superuser=True)
    other = make_project(owner=UserFactory(username="stranger"), name="Someone else's")
    for each in (project, other):
        experiment = experiments.experiment_create(project=each, name="baseline", by=manager)
        run = experiments.run_create(experiment=experiment, by=manager, name="lr-0.1")
        point = experiments.MetricIn("val_loss", 0.42, experiments.now_ms(), 0)
        experiments.log_batch(run=run, by=manager, metrics=[point])
    secrets = {}
    for caller in CALLERS[1:]:
        secrets[caller] = token_create(user=users[caller], name="main")[1]
        token_create(user=users[caller], name="spare")
    return World(
        project=project,
        other=other,
        users=users,
        secrets=secrets,
        newcomer=UserFactory(username="newcomer"),
    )


@dataclass(frozen=True)
class Endpoint:
    method: str
    url_name: str
    lookup: str | None = None  # the URL keyword of a detail route
    field: str = "pk"  # the attribute of the object that goes there


def routed_actions() -> dict[tuple[str, str], Endpoint]:
    """Every (basename, action) the v1 router serves, extra ``@action`` routes included."""
    found = {("api-root", "root"): Endpoint("get", "api-root")}
    for _prefix, viewset, basename in router.registry:
        lookup = viewset.lookup_url_kwarg or viewset.lookup_field
        for route in router.get_routes(viewset):
            for method, name in router.get_method_map(viewset, route.mapping).items():
                url_name = route.name.format(basename=basename)
                if route.detail:
                    endpoint = Endpoint(method, url_name, lookup, viewset.lookup_field)
                else:
                    endpoint = Endpoint(method, url_name)
                found[(basename, name)] = endpoint
    return found
