"""Query counts that do not grow with the data: the pages must stay fast for a portfolio of
a thousand projects, so each is pinned at 3 and at 15 projects (and their history)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard import services as dashboard_services
from dashboard import sharing
from phases import services
from phases.choices import Role
from tests.dashboard.conftest import advance, client_for
from tests.factories import make_project

pytestmark = pytest.mark.django_db

# Session and user (2), then the page's own reads; see dashboard.selectors.
PORTFOLIO_MAX = 10
PROJECT_MAX = 19  # the monitoring, models and sweeps sections read their first table once each;
# the leaderboard asks when the current phase was last reopened (what its gate reads)


def grow(n: int, *, owner, viewer, with_history: bool = True) -> list:
    projects = []
    for i in range(n):
        template = "mlops-lifecycle" if i % 2 else "ml-development-phases"
        project = make_project(owner=owner, template=template)
        services.membership_set(project=project, user=viewer, role=Role.VIEWER)
        if with_history and i % 3 == 0:
            advance(project, by=owner)
            services.phase_move_back(
                project=project,
                to_phase=project.phases.get(order=1),
                by=owner,
                reason=f"Loop {i}",
            )
        projects.append(project)
    return projects


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["viewer", "staff"])
def test_portfolio_queries_do_not_grow_with_projects(request, who, manager, viewer):
    client = client_for(request.getfixturevalue(who))
    url = reverse("dashboard:portfolio")
    grow(3, owner=manager, viewer=viewer)
    few = count(client, url)
    grow(12, owner=manager, viewer=viewer)
    many = count(client, url)
    assert few == many
    assert many <= PORTFOLIO_MAX


def test_filtered_portfolio_queries_are_bounded(manager, viewer, django_assert_max_num_queries):
    grow(15, owner=manager, viewer=viewer)
    client = client_for(viewer)
    with django_assert_max_num_queries(PORTFOLIO_MAX):
        client.get(
            reverse("dashboard:portfolio"),
            {"lifecycle": "mlops-lifecycle", "health": "green", "owner": manager.pk, "page": 1},
        )


def test_project_page_queries_do_not_grow_with_history(manager, viewer):
    """More phases visited, more tasks done, more transitions, more shared links and more
    projects elsewhere: the manager's project page still costs the same."""
    project = make_project(owner=manager, name="Grows")
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    advance(project, by=manager)
    client = client_for(manager)
    url = reverse("dashboard:project", args=[project.slug])
    few = count(client, url)

    grow(12, owner=manager, viewer=viewer)
    advance(project, by=manager)
    services.phase_move_back(
        project=project, to_phase=project.phases.get(order=2), by=manager, reason="Again"
    )
    advance(project, by=manager)
    for n in range(4):
        dashboard_services.shared_link_create(project=project, by=manager, label=f"L{n}")
        services.task_create(phase=project.current_phase, by=manager, title=f"Extra {n}")
    many = count(client, url)
    assert few == many
    assert many <= PROJECT_MAX


def test_live_and_shared_pages_queries_are_bounded(manager, viewer, django_assert_max_num_queries):
    project = grow(15, owner=manager, viewer=viewer)[0]
    link = dashboard_services.shared_link_create(project=project, by=manager)
    token = sharing.token_for(link_id=link.pk, nonce=link.nonce)
    client = client_for(viewer)
    with django_assert_max_num_queries(8):
        client.get(reverse("dashboard:project-live", args=[project.slug]))
    with django_assert_max_num_queries(PROJECT_MAX - 4):
        client.get(reverse("dashboard:shared", args=[token]))
