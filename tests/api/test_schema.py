"""The OpenAPI schema: it validates, it documents every operation and its errors, and the
running API keeps every promise it makes (Schemathesis against the live server)."""

import gzip
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from api.services import token_create
from experiments import services as experiments
from monitoring import services as monitoring
from phases import services
from phases.choices import Role, TaskStatus
from registry import services as registry
from tests.api.conftest import bearer, routed_actions
from tests.factories import UserFactory, make_project

ERROR_REF = "#/components/schemas/Error"
WRITES = {"post", "put", "patch", "delete"}
METHODS = WRITES | {"get", "head", "options", "trace"}


def test_the_schema_validates_without_warnings(tmp_path):
    """What CI runs: ``manage.py spectacular --validate --fail-on-warn``, in a fresh process
    so that warnings other tests already triggered are neither hidden nor counted twice."""
    result = subprocess.run(
        [
            sys.executable,
            str(Path(django_settings.BASE_DIR) / "manage.py"),
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(tmp_path / "schema.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "openapi: 3" in (tmp_path / "schema.yaml").read_text()


@pytest.fixture
def served_schema(db, fresh_throttles, fast_passwords) -> dict:
    _, secret = token_create(user=UserFactory(), name="docs")
    response = bearer(secret).get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_sent_compressed_to_a_client_that_accepts_it(db, fast_passwords):
    """The API docs fetch it on every visit; the static files beside them (Swagger UI) are
    compressed by WhiteNoise at collect time."""
    _, secret = token_create(user=UserFactory(), name="docs")
    client = bearer(secret)
    plain = client.get(reverse("schema"), {"format": "json"})
    packed = client.get(reverse("schema"), {"format": "json"}, HTTP_ACCEPT_ENCODING="gzip, br")
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.content) * 5 < len(plain.content)
    assert gzip.decompress(packed.content) == plain.content


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", method, operation


def test_every_operation_has_a_summary_and_documents_its_errors(served_schema):
    """Every operation says what it does and that it needs a signed-in caller; those of
    ``/api/v1/`` document each error they can answer, in the one error shape."""
    missing = {}
    for label, method, operation in operations(served_schema):
        responses = operation["responses"]
        needed = {"401"}
        if " /api/v1/" in label:
            needed |= {"403", "404", "405", "429"}
            if method in WRITES:
                needed |= {"409"}
            if method in {"post", "put", "patch"}:
                needed |= {"400", "413"}
        problems = sorted(needed - responses.keys())
        problems += [
            f"{code} is not an Error"
            for code in sorted(needed & responses.keys())
            if " /api/v1/" in label
            and responses[code]["content"]["application/json"]["schema"] != {"$ref": ERROR_REF}
        ]
        if not operation.get("summary", "").strip():
            problems.append("no summary")
        if not any(code.startswith("2") for code in responses):
            problems.append("no success answer")
        if problems:
            missing[label] = problems
    assert missing == {}


def test_every_routed_action_is_in_the_schema_and_nothing_else(served_schema):
    routed = set()
    for endpoint in routed_actions().values():
        if endpoint.url_name == "api-root":
            continue
        placeholder = {"pk": "{id}", "slug": "{slug}"}.get(endpoint.lookup)
        kwargs = {endpoint.lookup: placeholder} if endpoint.lookup else {}
        path = unquote(reverse(f"v1:{endpoint.url_name}", kwargs=kwargs))
        routed.add(f"{endpoint.method.upper()} {path}")
    documented = {label for label, _, _ in operations(served_schema) if " /api/v1/" in label}
    assert documented == routed


def test_the_schema_declares_bearer_tokens(served_schema):
    scheme = served_schema["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


@pytest.mark.parametrize("name", ["schema", "docs"])
def test_the_schema_and_docs_need_a_signed_in_caller(name, db, fresh_throttles):
    assert bearer().get(reverse(name)).status_code == 401


def test_a_browser_not_signed_in_is_sent_to_sign_in_for_the_docs(client, db):
    response = client.get(reverse("docs"), HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('docs')}"


def test_the_docs_are_served_from_installed_packages(client, db, fast_passwords):
    client.force_login(UserFactory())
    response = client.get(reverse("docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr.net" not in page
    assert "unpkg.com" not in page


# --- Inputs the schema rules out ---------------------------------------------------------


@pytest.fixture
def manager_client(world):
    return world.client(Role.MANAGER)


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("patch", "project", {"success_target": True}, "success_target"),
        ("patch", "project", {"success_target": "0.9"}, "success_target"),
        ("patch", "project", {"success_metric": 5}, "success_metric"),
        ("patch", "task", {"required": "yes"}, "required"),
        ("patch", "task", {"order": "5"}, "order"),
        ("patch", "task", {"assignee": ""}, "assignee"),
        ("post", "tasks", {"phase": "1", "title": "x"}, "phase"),
        ("post", "advance", {"to_phase": 1.5}, "to_phase"),
        ("get", "tasks", {"page_size": 0}, "page_size"),
        ("get", "tasks", {"page_size": 501}, "page_size"),
        ("get", "tasks", {"page_size": "ten"}, "page_size"),
        ("get", "tasks", {"required": "maybe"}, "required"),
        ("get", "tasks", {"phase": "0.5"}, "phase"),
        ("get", "lifecycles", {"is_builtin": "1"}, "is_builtin"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_not_converted(
    world, manager_client, method, url, body, field
):
    urls = {
        "project": reverse("v1:project-detail", kwargs={"slug": world.project.slug}),
        "advance": reverse("v1:project-advance", kwargs={"slug": world.project.slug}),
        "task": reverse("v1:task-detail", kwargs={"pk": world.task.pk}),
        "tasks": reverse("v1:task-list"),
        "lifecycles": reverse("v1:lifecycle-list"),
    }
    response = getattr(manager_client, method)(urls[url], body, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()["fields"]) == [field]


def test_a_filter_left_empty_is_not_applied(world, manager_client):
    everything = manager_client.get(reverse("v1:task-list")).json()["count"]
    empty = {"phase": "", "required": "", "due_before": "", "page_size": "", "search": ""}
    assert manager_client.get(reverse("v1:task-list"), empty).json()["count"] == everything


def test_fields_fixed_at_creation_are_read_only_afterwards(world, manager_client):
    url = reverse("v1:project-detail", kwargs={"slug": world.project.slug})
    body = {"name": "Renamed", "lifecycle": "mlops-lifecycle", "slug": "renamed"}
    response = manager_client.put(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["lifecycle"]) == (
        "Renamed",
        "ml-development-phases",
    )
    assert response.json()["slug"] == world.project.slug


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects/?search=a%00b",
        "/api/v1/projects/?owner=%00",
        "/api/v1/tasks/?project=%00",
        "/api/v1/memberships/?user=%00",
    ],
)
def test_nul_is_refused(url, manager_client):
    response = manager_client.get(url)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    "url", ["/api/v1/projects/%00/", "/api/v1/projects/a%00b/gate/", "/api/v1/lifecycles/%00/"]
)
def test_nul_in_a_path_finds_nothing(url, manager_client):
    response = manager_client.get(url)
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


# --- Schemathesis against the live server -----------------------------------------------


MAX_EXAMPLES = 10  # per operation and phase: the whole run stays within a few minutes
# Some rules cannot be stated in OpenAPI: the schema can say "a slug" but not "the slug of an
# existing project", "text" but not "CSV with a header". A schema-valid request that breaks
# one is refused with 400, so for these operations alone 400 is an accepted answer to
# schema-valid data (as `st explain ST202` advises). Every other check, and every other
# operation, keeps Schemathesis's defaults.
UNSTATABLE = {
    "POST /api/v1/projects/": "the lifecycle exists; the slug is free",
    "POST /api/v1/memberships/": "the project and the user exist",
    "POST /api/v1/tasks/": "the phase and the assignee exist",
    "PUT /api/v1/tasks/{id}/": "the assignee exists and is a member",
    "PATCH /api/v1/tasks/{id}/": "the assignee exists and is a member",
    "POST /api/v1/outcomes/": "the phase exists",
    "POST /api/v1/tokens/": "the project exists",
    "POST /api/v1/projects/{slug}/advance/": "to_phase is a phase of the project",
    "POST /api/v1/projects/{slug}/move-back/": "to_phase is a phase of the project",
    "GET /api/v1/metrics/compare/": "the runs exist among the caller's projects",
    "POST /api/v1/runs/{id}/metrics/": "CSV has a header; columns have one length",
    "POST /api/v1/deployments/{id}/reference/": "CSV has a header; columns have one length",
    "POST /api/v1/deployments/{id}/batches/": "the columns are the reference's, with row ids",
    "POST /api/v1/deployments/{id}/labels/": "the row ids are stored rows",
    "PATCH /api/v1/monitors/{id}/": "the config suits the monitor's kind",
    "POST /api/v1/registered-models/": "the project exists; the name is free, no `/` or `:`",
    "PATCH /api/v1/registered-models/{id}/": "the new name is free and has no `/` or `:`",
    "POST /api/v1/model-versions/": "the run or logged model is one of the model's project",
    "POST /api/v1/alerts/{id}/silence/": "the time is in the future",
    "POST /api/v1/datasets/": "the project exists; a file is CSV with its target column",
    "POST /api/v1/sweeps/": "the project and dataset exist; families suit the task",
    "POST /api/v1/sweeps/{id}/cancel/": "the sweep is queued or running",
    "POST /api/v1/sweeps/{id}/resume/": "the sweep has cancelled or queued trials",
    "POST /api/v1/sweeps/{id}/retry-failed/": "the sweep has failed trials",
    "POST /api/v1/sweeps/{id}/best-as-evidence/": "the sweep has a best trial; the outcome exists",
    "POST /api/v1/deployments/{id}/retrain/": "the deployed run names a family; the dataset exists",
    "POST /api/v1/deployments/{id}/export/": "until is after since; both name their time zone",
}
ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
# PostgreSQL text cannot hold NUL, so the API refuses it with 400 (``test_nul_is_refused``);
# generating it would only re-find that refusal on every operation.
CONFIG = "[generation]\nallow-x00 = false\n" + "".join(
    f'\n[[operations]]\ninclude-name = "{name}"\n'
    f"checks.positive_data_acceptance.expected-statuses = {ACCEPTED}\n"
    for name in UNSTATABLE
)


@pytest.fixture
def manager_secret(fast_passwords) -> str:
    """The bearer token of a manager whose project has data in every resource: members of
    each role, an assigned task, reviewed outcomes, a forward and a backward transition,
    a run with a metric, and a spare token. The run cannot revoke its own credentials
    halfway: the token endpoints refuse every request made with a token (403)."""
    manager = UserFactory()
    project = make_project(owner=manager, name="Churn model", success_metric="val_auc")
    viewer = UserFactory()
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    services.membership_set(project=project, user=UserFactory(), role=Role.CONTRIBUTOR)
    first = project.current_phase
    for task in first.tasks.all():
        services.task_update(task=task, by=manager, status=TaskStatus.DONE, assignee=viewer)
    for outcome in first.outcomes.all():
        services.outcome_submit(outcome=outcome, by=viewer, evidence_url="https://example.com/r")
        services.outcome_accept(outcome=outcome, by=manager)
    services.phase_advance(project=project, by=manager, reason="scoped")
    services.phase_move_back(project=project, to_phase=first, by=manager, reason="new data")
    experiment = experiments.experiment_create(project=project, name="baseline", by=manager)
    run = experiments.run_create(experiment=experiment, by=manager, name="lr-0.1")
    point = experiments.MetricIn("val_auc", 0.81, experiments.now_ms(), 0)
    experiments.log_batch(run=run, by=manager, metrics=[point], params=[("lr", "0.1")])
    deployment = monitoring.deployment_start(project=project, name="churn v1", by=manager)
    monitoring.reference_set(
        deployment=deployment,
        columns={"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "score": [0.1, 0.5, 0.9]},
        prediction="score",
        by=manager,
    )
    monitoring.batch_add(
        deployment=deployment,
        columns={"row_id": ["r1"], "x": [1.5], "c": ["a"], "score": [0.4]},
        by=manager,
    )
    for monitor in project.monitors.all():
        monitoring.monitor_run(monitor_id=monitor.pk)
    model = registry.registered_model_create(project=project, name="churn", by=manager)
    version = registry.model_version_create(
        registered_model=model,
        by=manager,
        source=f"runs:/{run.run_id}/model",
        storage_location=f"{run.artifact_uri}/model",
        run=run,
    )
    registry.alias_set(version=version, alias="challenger", by=manager)
    iris = experiments.dataset_create(project=project, user=manager, name="iris", builtin="iris")
    # A sweep with queued trials (no worker runs here): its project can still be deleted.
    experiments.sweep_create(
        project=project, user=manager, name="knn", dataset=iris, families=["knn"],
        strategy="random", max_trials=2, folds=2,
    )  # fmt: skip
    token_create(user=manager, name="spare")
    _, secret = token_create(user=manager, name="schemathesis")
    return secret


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_live_api_keeps_the_promises_of_its_schema(
    live_server, manager_secret, unthrottled, tmp_path
):
    """``st run`` with every check it has (``--checks all``) against the schema the live
    server serves, through its four phases: examples, coverage (boundaries and values the
    schema rules out), fuzzing, and stateful sequences along the links it infers from the
    schema. Any server error or answer outside the schema fails it."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config),
            "--no-color",
            "run",
            f"{live_server.url}{reverse('schema')}?format=json",
            "--header",
            f"Authorization: Bearer {manager_secret}",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--generation-database",
            "none",
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
