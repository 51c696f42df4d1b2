"""The registry resources of /api/v1/ as a tool or a reviewer uses them: what is at the
production alias and since when, deploying and withdrawing as recorded events, the roles
that guard the production alias, refusals that name the field, and the model card."""

import pytest
from django.urls import reverse

from api.services import token_create
from experiments import services as tracking
from phases.choices import Role
from phases.services import membership_set
from registry import services
from registry.choices import DeploymentKind
from registry.models import DeploymentEvent, ModelAlias, ModelVersion
from tests.api.conftest import bearer
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


class Project:
    def __init__(self):
        self.manager = UserFactory(username="mia")
        self.project = make_project(
            owner=self.manager,
            name="Churn",
            success_metric="auc",
            success_target=0.8,
            description="Who leaves <b>next</b> month.",
        )
        self.clients = {Role.MANAGER: self.client_of(self.manager)}
        for role in (Role.VIEWER, Role.CONTRIBUTOR):
            user = UserFactory(username=str(role))
            membership_set(project=self.project, user=user, role=role)
            self.clients[role] = self.client_of(user)
        experiment = tracking.experiment_create(project=self.project, name="gbm", by=self.manager)
        self.runs = []
        for index, auc in enumerate((0.78, 0.86)):
            run = tracking.run_create(experiment=experiment, by=self.manager, name=f"gbm-{index}")
            tracking.log_batch(
                run=run,
                by=self.manager,
                metrics=[tracking.MetricIn("auc", auc, 1, 0)],
                params=[("max_depth", str(4 + index))],
            )
            self.runs.append(run)
        self.model = services.registered_model_create(
            project=self.project, name="churn", by=self.manager
        )
        self.versions = [self.register(run) for run in self.runs]

    @staticmethod
    def client_of(user):
        _, secret = token_create(user=user, name="main")
        return bearer(secret)

    def register(self, run) -> ModelVersion:
        return services.model_version_create(
            registered_model=self.model,
            by=self.manager,
            source=f"runs:/{run.run_id}/model",
            storage_location=f"{run.artifact_uri}/model",
            run=run,
        )


@pytest.fixture
def churn(fresh_throttles, fast_passwords):
    return Project()


def version_url(version, action: str = "detail") -> str:
    return reverse(f"v1:model-version-{action}", args=[version.pk])


def test_a_version_says_what_is_at_the_production_alias_since_when_and_its_run(churn):
    first, second = churn.versions
    services.alias_set(version=first, alias="champion", by=churn.manager)
    services.alias_set(version=second, alias="challenger", by=churn.manager)
    listed = churn.clients[Role.VIEWER].get(reverse("v1:model-version-list")).json()
    by_number = {row["version"]: row for row in listed["results"]}
    assert [row["version"] for row in listed["results"]] == [2, 1]
    assert by_number[1]["in_production"] is True
    assert by_number[1]["in_production_since"] is not None
    assert by_number[1]["aliases"][0]["alias"] == "champion"
    assert by_number[1]["aliases"][0]["set_by"] == "mia"
    assert by_number[1]["run"] == churn.runs[0].run_id
    assert by_number[1]["metrics"] == {"auc": 0.78}
    assert (by_number[2]["in_production"], by_number[2]["in_production_since"]) == (False, None)

    model = churn.clients[Role.VIEWER].get(
        reverse("v1:registered-model-detail", args=[churn.model.pk])
    )
    body = model.json()
    assert body["production_alias"] == "champion"
    assert body["production"]["version"] == 1
    assert body["version_count"] == 2
    assert [a["alias"] for a in body["aliases"]] == ["challenger", "champion"]

    only = churn.clients[Role.VIEWER].get(
        reverse("v1:model-version-list"), {"in_production": "true"}
    )
    assert [row["version"] for row in only.json()["results"]] == [1]


def test_a_project_with_its_own_production_alias_is_read_with_it(churn):
    services.production_alias_update(project=churn.project, alias="live", by=churn.manager)
    services.alias_set(version=churn.versions[1], alias="live", by=churn.manager)
    row = churn.clients[Role.VIEWER].get(version_url(churn.versions[1])).json()
    assert (row["production_alias"], row["in_production"]) == ("live", True)


def test_promote_is_a_managers_deployment_recorded_as_an_event(churn):
    first, second = churn.versions
    refused = churn.clients[Role.CONTRIBUTOR].post(version_url(first, "promote"))
    assert refused.status_code == 403
    assert "manager" in refused.json()["message"]
    refused = churn.clients[Role.CONTRIBUTOR].post(
        version_url(first, "alias"), {"alias": "champion"}, format="json"
    )
    assert refused.status_code == 403
    assert not DeploymentEvent.objects.exists()

    manager = churn.clients[Role.MANAGER]
    assert manager.post(version_url(first, "promote")).json()["in_production"] is True
    answer = manager.post(version_url(second, "alias"), {"alias": "champion"}, format="json")
    assert answer.status_code == 200
    events = churn.clients[Role.VIEWER].get(reverse("v1:deployment-event-list")).json()
    newest = events["results"][0]
    assert [e["version"] for e in events["results"]] == [2, 1]
    assert newest["previous_version"] == 1
    assert newest["run"] == churn.runs[1].run_id
    assert newest["metrics"] == {"auc": 0.86}
    assert (newest["by"], newest["kind"]) == ("mia", DeploymentKind.PROMOTED)

    # Promoting what is already there records nothing.
    manager.post(version_url(second, "promote"))
    assert DeploymentEvent.objects.count() == 2


def test_a_contributor_sets_other_aliases_and_deletes_versions_not_in_production(churn):
    first, second = churn.versions
    contributor = churn.clients[Role.CONTRIBUTOR]
    answer = contributor.post(version_url(second, "alias"), {"alias": "challenger"}, format="json")
    assert answer.status_code == 200
    assert [a["alias"] for a in answer.json()["aliases"]] == ["challenger"]
    services.alias_set(version=first, alias="champion", by=churn.manager)

    assert contributor.delete(version_url(first)).status_code == 403
    assert contributor.delete(version_url(second)).status_code == 204
    remove = reverse("v1:registered-model-remove-alias", args=[churn.model.pk])
    assert contributor.post(remove, {"alias": "champion"}, format="json").status_code == 403
    assert ModelAlias.objects.filter(alias="champion").exists()

    manager = churn.clients[Role.MANAGER]
    assert manager.post(remove, {"alias": "champion"}, format="json").status_code == 200
    withdrawn = DeploymentEvent.objects.order_by("-pk").first()
    assert (withdrawn.kind, withdrawn.previous_version) == (DeploymentKind.WITHDRAWN, 1)


@pytest.mark.parametrize("alias", ["latest", "v3", "a b", "", "é"])
def test_an_alias_outside_mlflows_rule_is_refused_naming_the_field(churn, alias):
    answer = churn.clients[Role.MANAGER].post(
        version_url(churn.versions[0], "alias"), {"alias": alias}, format="json"
    )
    assert answer.status_code == 400
    assert list(answer.json()["fields"]) == ["alias"]
    assert not ModelAlias.objects.exists()


def test_a_version_is_registered_from_a_run_of_the_models_project(churn):
    run = churn.runs[0]
    contributor = churn.clients[Role.CONTRIBUTOR]
    body = {"registered_model": churn.model.pk, "run": run.run_id, "artifact_path": "gbm/model"}
    answer = contributor.post(reverse("v1:model-version-list"), body, format="json")
    assert answer.status_code == 201, answer.json()
    created = answer.json()
    assert created["version"] == 3
    assert created["source"] == f"runs:/{run.run_id}/gbm/model"
    assert created["storage_location"] == f"{run.artifact_uri}/gbm/model"
    assert created["created_by"] == "contributor"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "run"),
        ({"run": "0" * 32}, "run"),
        ({"run": "not-a-run"}, "run"),
        ({"logged_model": "m-" + "0" * 32}, "logged_model"),
        ({"run": "RUN", "artifact_path": "../../etc"}, "artifact_path"),
        ({"run": "RUN", "artifact_path": "/abs"}, "artifact_path"),
        ({"run": "OTHER"}, "run"),
    ],
)
def test_a_version_without_a_source_of_the_project_is_refused(churn, body, field):
    stranger = UserFactory()
    other = make_project(owner=stranger, name="Other")
    experiment = tracking.experiment_create(project=other, name="x", by=stranger)
    foreign = tracking.run_create(experiment=experiment, by=stranger)
    ids = {"RUN": churn.runs[0].run_id, "OTHER": foreign.run_id}
    body = {k: ids.get(v, v) for k, v in body.items()}
    answer = churn.clients[Role.MANAGER].post(
        reverse("v1:model-version-list"),
        {"registered_model": churn.model.pk, **body},
        format="json",
    )
    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["fields"]) == [field]
    assert ModelVersion.objects.count() == 2


def test_registered_models_are_created_renamed_and_refused_when_taken(churn):
    contributor = churn.clients[Role.CONTRIBUTOR]
    url = reverse("v1:registered-model-list")
    made = contributor.post(url, {"project": churn.project.slug, "name": "churn-v2"}, format="json")
    assert made.status_code == 201, made.json()
    taken = contributor.post(url, {"project": churn.project.slug, "name": "churn"}, format="json")
    assert taken.status_code == 409
    assert list(taken.json()["fields"]) == ["name"]
    slash = contributor.post(url, {"project": churn.project.slug, "name": "a/b"}, format="json")
    assert (slash.status_code, list(slash.json()["fields"])) == (400, ["name"])

    detail = reverse("v1:registered-model-detail", args=[made.json()["id"]])
    renamed = contributor.patch(detail, {"name": "churn-next", "description": "v2"}, format="json")
    assert (renamed.json()["name"], renamed.json()["description"]) == ("churn-next", "v2")
    assert contributor.delete(detail).status_code == 403
    assert churn.clients[Role.MANAGER].delete(detail).status_code == 204


def test_the_card_as_json_and_as_a_markdown_download(churn):
    version = churn.versions[1]
    services.alias_set(version=version, alias="champion", by=churn.manager)
    viewer = churn.clients[Role.VIEWER]
    card = viewer.get(version_url(version, "card")).json()
    assert card["evaluation"] == {
        "metric": "auc",
        "label": "",
        "target": 0.8,
        "direction": "maximize",
        "value": 0.86,
        "met": True,
    }
    assert card["params"] == {"max_depth": "5"}
    assert card["run"]["run_id"] == churn.runs[1].run_id
    assert card["in_production"] is True
    assert [d["version"] for d in card["deployments"]] == [2]
    assert card["problem"] == "Who leaves <b>next</b> month."

    download = viewer.get(version_url(version, "card-markdown"))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/markdown; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="model-card-churn-v2.md"'
    text = download.content.decode()
    assert text.startswith("# Model card: churn v2")
    assert "\\<b\\>next\\</b\\>" in text


def test_an_outsider_sees_no_card(churn):
    outsider = Project.client_of(UserFactory())
    assert outsider.get(version_url(churn.versions[0], "card")).status_code == 404
    assert outsider.get(version_url(churn.versions[0], "card-markdown")).status_code == 404
