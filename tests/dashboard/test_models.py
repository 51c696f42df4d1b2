"""The models section of the project page and a version's page: what is at the production
alias and since when, the model card with its Markdown download, deploying from the page
(managers only), and query counts that do not grow with models, versions or deployments."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard import figures, selectors, sharing
from dashboard import services as dashboard_services
from dashboard.selectors import VERSIONS_SHOWN
from experiments import services as tracking
from phases import services
from phases.choices import Role
from registry import services as registry
from registry.choices import DeploymentKind
from registry.models import DeploymentEvent
from tests.dashboard.conftest import client_for
from tests.factories import make_project

pytestmark = pytest.mark.django_db

# The models, the production alias, the versions, their aliases, their runs' metrics (and
# one more for logged models' own metrics, when versions come from logged models).
MODELS_QUERIES = 5
# The version, its card (``registry.cards``), the versions around it with their aliases and
# their runs' metrics.
VERSION_PAGE_QUERIES = 17


def registered(project, owner, *, models=1, versions=2, name="churn", values=None):
    """``models`` registered models of ``versions`` versions each, every version from a run
    that logged the success metric; the last version of the first model at the production
    alias, the one before it at ``challenger``."""
    experiment = tracking.experiment_create(project=project, name=f"{name}-runs", by=owner)
    made = []
    for m in range(models):
        model = registry.registered_model_create(
            project=project, name=name if m == 0 else f"{name}-{m}", by=owner
        )
        for v in range(versions):
            run = tracking.run_create(experiment=experiment, by=owner, name=f"gbm-{m}-{v}")
            value = values[v] if values else 0.7 + 0.02 * v
            tracking.log_batch(
                run=run,
                by=owner,
                metrics=[tracking.MetricIn(project.success_metric, value, 1, 0)],
                params=[("max_depth", str(3 + v))],
            )
            made.append(
                registry.model_version_create(
                    registered_model=model,
                    by=owner,
                    source=f"runs:/{run.run_id}/model",
                    storage_location=f"{run.artifact_uri}/model",
                    run=run,
                )
            )
    first = [v for v in made if v.registered_model.name == name]
    registry.alias_set(version=first[-1], alias=registry.production_alias(project), by=owner)
    if len(first) > 1:
        registry.alias_set(version=first[-2], alias="challenger", by=owner)
    return made


@pytest.fixture
def churn(manager, viewer, contributor):
    project = make_project(
        owner=manager, name="Churn model", success_metric="val_auc", success_target=0.72
    )
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    services.membership_set(project=project, user=contributor, role=Role.CONTRIBUTOR)
    return project


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def version_url(project, name: str, number: int, view: str = "model-version") -> str:
    return reverse(f"dashboard:{view}", args=[project.slug, name, number])


def test_the_section_shows_versions_and_what_is_in_production_since_when(churn, manager, viewer):
    versions = registered(churn, manager, versions=3, values=[0.70, 0.74, 0.76])
    html = page(client_for(viewer), reverse("dashboard:project", args=[churn.slug]))
    assert 'id="models"' in html
    model = versions[0].registered_model
    assert f'data-testid="model-{model.pk}-production"' in html
    assert "v3 at champion" in html
    assert version_url(churn, "churn", 1) in html
    assert html.count("tag tag-done") >= 2  # v2 and v3 meet 0.72
    assert "challenger" in html


def test_a_project_without_models_has_no_section(churn, viewer):
    html = page(client_for(viewer), reverse("dashboard:project", args=[churn.slug]))
    assert 'id="models"' not in html


def test_only_the_newest_versions_and_the_deployed_one_are_listed(churn, manager, viewer):
    versions = registered(churn, manager, versions=VERSIONS_SHOWN + 3)
    # The oldest version goes to production: it is listed although it is not among the newest.
    registry.alias_set(version=versions[0], alias="champion", by=manager)
    html = page(client_for(viewer), reverse("dashboard:project", args=[churn.slug]))
    assert "v1 at champion" in html
    assert version_url(churn, "churn", 1) in html
    assert version_url(churn, "churn", 2) not in html
    assert "older versions not shown" in html


def test_the_version_page_is_the_card_and_offers_the_markdown(churn, manager, viewer):
    registered(churn, manager, versions=2, values=[0.70, 0.75])
    html = page(client_for(viewer), version_url(churn, "churn", 2))
    assert 'data-testid="in-production"' in html
    assert "meets the target" in html
    assert 'id="chart-versions"' in html
    assert "max_depth" in html
    assert version_url(churn, "churn", 2, "model-card-markdown") in html
    assert 'data-testid="promote"' not in html  # a viewer deploys nothing

    download = client_for(viewer).get(version_url(churn, "churn", 2, "model-card-markdown"))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/markdown; charset=utf-8"
    assert "attachment" in download["Content-Disposition"]
    assert download.content.decode().startswith("# Model card: churn v2")


def test_user_text_on_the_card_stays_text(churn, manager, viewer):
    versions = registered(churn, manager, versions=1, name="<img src=x onerror=alert(1)>")
    registry.model_version_update(
        version=versions[0], description="<script>alert(1)</script>", by=manager
    )
    html = page(client_for(viewer), version_url(churn, versions[0].registered_model.name, 1))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_a_manager_deploys_from_the_page_and_it_is_recorded(churn, manager, contributor, viewer):
    registered(churn, manager, versions=2)
    url = version_url(churn, "churn", 1, "model-version-promote")
    assert client_for(viewer).post(url).status_code == 403
    assert client_for(contributor).post(url).status_code == 403
    assert 'data-testid="promote"' in page(client_for(manager), version_url(churn, "churn", 1))

    response = client_for(manager).post(url, {"below_target": "yes"}, follow=True)
    assert response.status_code == 200
    assert "is now at “champion”" in response.content.decode()
    event = DeploymentEvent.objects.filter(project=churn).latest("created_at")
    assert (event.kind, event.version, event.previous_version, event.by) == (
        DeploymentKind.PROMOTED,
        1,
        2,
        manager,
    )


def test_deploying_a_version_that_misses_the_target_takes_a_tick(churn, manager):
    registered(churn, manager, versions=3, values=[0.65, 0.80, 0.81])  # v3 in production
    below = version_url(churn, "churn", 1)
    html = page(client_for(manager), below)
    assert 'data-testid="below-target"' in html and "Deploy anyway: move champion here" in html
    events = DeploymentEvent.objects.filter(project=churn).count()

    refused = client_for(manager).post(version_url(churn, "churn", 1, "model-version-promote"))
    assert refused.status_code == 302
    assert DeploymentEvent.objects.filter(project=churn).count() == events
    assert "misses the target" in page(client_for(manager), below)

    client_for(manager).post(
        version_url(churn, "churn", 1, "model-version-promote"), {"below_target": "yes"}
    )
    assert DeploymentEvent.objects.filter(project=churn).latest("created_at").version == 1
    # A version that meets the target asks for no tick.
    assert 'data-testid="below-target"' not in page(
        client_for(manager), version_url(churn, "churn", 2)
    )


def test_the_card_names_people_by_their_names(churn, manager, viewer):
    manager.first_name, manager.last_name = "Marco", "Bianchi"
    manager.save()
    registered(churn, manager, versions=1)
    client_for(manager).post(version_url(churn, "churn", 1, "model-version-promote"))
    html = page(client_for(viewer), version_url(churn, "churn", 1))
    deployments = html[html.index('class="data deployments') :]
    assert '<td data-label="By">Marco Bianchi</td>' in deployments[: deployments.index("</table>")]
    markdown = client_for(viewer).get(version_url(churn, "churn", 1, "model-card-markdown"))
    assert "by Marco Bianchi" in markdown.content.decode()


def test_a_version_of_another_project_or_none_is_not_found(churn, manager, outsider):
    registered(churn, manager)
    other = make_project(owner=manager, name="Other", success_metric="val_auc")
    client = client_for(manager)
    assert client.get(version_url(other, "churn", 1)).status_code == 404
    assert client.get(version_url(churn, "churn", 9)).status_code == 404
    assert client.get(version_url(churn, "nope", 1)).status_code == 404
    assert client_for(outsider).get(version_url(churn, "churn", 1)).status_code == 404
    post = client_for(outsider).post(version_url(churn, "churn", 1, "model-version-promote"))
    assert post.status_code == 404


def test_the_shared_page_shows_models_without_links(churn, manager):
    registered(churn, manager)
    link = dashboard_services.shared_link_create(project=churn, by=manager)
    token = sharing.token_for(link_id=link.pk, nonce=link.nonce)
    html = page(client_for(manager), reverse("dashboard:shared", args=[token]))
    assert "v2 at champion" in html
    assert version_url(churn, "churn", 1) not in html


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_section_costs_the_same_for_few_and_many_models_and_versions(
    manager, django_assert_num_queries
):
    few = make_project(owner=manager, name="Few", success_metric="val_auc")
    registered(few, manager, models=1, versions=2)
    many = make_project(owner=manager, name="Many", success_metric="val_auc")
    registered(many, manager, models=4, versions=VERSIONS_SHOWN + 2)
    client = client_for(manager)
    counts = [count(client, reverse("dashboard:project", args=[p.slug])) for p in (few, many)]
    assert counts[0] == counts[1]
    with django_assert_num_queries(MODELS_QUERIES):
        selectors.project_models(project=many)
    empty = make_project(owner=manager, name="None yet")
    with django_assert_num_queries(1):
        assert selectors.project_models(project=empty) is None


def test_the_version_page_costs_the_same_for_few_and_many_versions_and_moves(
    manager, django_assert_num_queries
):
    few = make_project(owner=manager, name="Few", success_metric="val_auc")
    registered(few, manager, versions=2)
    many = make_project(owner=manager, name="Many", success_metric="val_auc")
    versions = registered(many, manager, versions=8)
    for version in versions[:5]:
        registry.alias_set(version=version, alias="champion", by=manager)
    client = client_for(manager)
    counts = [count(client, version_url(p, "churn", 2)) for p in (few, many)]
    assert counts[0] == counts[1]
    with django_assert_num_queries(VERSION_PAGE_QUERIES):
        selectors.version_page(project=many, name="churn", number=2)


def test_the_versions_chart_colours_by_the_target_and_keeps_text_literal():
    figure = figures.version_values(
        [
            figures.VersionValue(1, 0.70, in_production=False, current=False),
            figures.VersionValue(2, 0.80, in_production=True, current=True),
            figures.VersionValue(3, None, in_production=False, current=False),
        ],
        metric="<b>auc</b>",
        target=0.75,
        maximize=True,
        production_alias="champion",
    )
    (bars,) = figure["data"]
    assert bars["marker"]["color"] == [figures.SHORT, figures.GOOD, "#9aa5b1"]
    assert bars["y"] == [0.70, 0.80, 0]
    assert bars["text"] == ["", "champion", ""]
    assert bars["name"] == "&lt;b&gt;auc&lt;/b&gt;"
    assert figure["layout"]["shapes"][0]["y0"] == 0.75
