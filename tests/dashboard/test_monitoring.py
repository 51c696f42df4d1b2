"""The monitoring section of the project page, alerts acted on from it, and the portfolio
that lists projects with firing alerts first."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.choices import AlertState, MonitorKind
from monitoring.models import Alert
from phases import services
from phases.choices import Role
from tests.dashboard.conftest import advance, client_for
from tests.factories import make_project
from tests.monitoring.conftest import monitored_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_production(manager, viewer, contributor):
    project = make_project(owner=manager, name="Churn model")
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    services.membership_set(project=project, user=contributor, role=Role.CONTRIBUTOR)
    for _ in range(3):
        advance(project, by=manager)
    monitored_for(project, days=5)
    return project


def page(client, project):
    response = client.get(reverse("dashboard:project", args=[project.slug]))
    assert response.status_code == 200
    return response.content.decode()


def drift_alert(project) -> Alert:
    return Alert.objects.get(monitor__project=project, monitor__kind=MonitorKind.DATA_DRIFT)


def test_the_section_shows_deployment_series_features_and_alerts(in_production, viewer):
    html = page(client_for(viewer), in_production)
    assert 'id="monitoring"' in html and "churn v2" in html
    assert 'data-testid="monitor-data_drift"' in html and "chart-monitor-" in html
    assert 'id="chart-drift"' in html
    assert "Drifted" in html  # x, in the latest window
    alert = drift_alert(in_production)
    assert alert.state == AlertState.FIRING
    assert f'data-testid="alert-{alert.pk}"' in html
    assert "Acknowledge" not in html  # a viewer reads only


def test_a_contributor_acknowledges_and_resolves_a_manager_moves_back(
    in_production, viewer, contributor, manager, outsider
):
    alert = drift_alert(in_production)
    url = reverse("dashboard:alert-acknowledge", args=[in_production.slug, alert.pk])
    assert client_for(viewer).post(url).status_code == 403
    assert client_for(outsider).post(url).status_code == 404
    contributor.first_name, contributor.last_name = "Lukas", "Schmidt"
    contributor.save()
    assert client_for(contributor).post(url).status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == contributor
    page = client_for(viewer).get(reverse("dashboard:project", args=[in_production.slug]))
    assert "Acknowledged by Lukas Schmidt" in page.content.decode()

    move = reverse("dashboard:alert-move-back", args=[in_production.slug, alert.pk])
    assert client_for(contributor).post(move).status_code == 403
    response = client_for(manager).post(move, follow=True)
    assert "moved back to Experimentation" in response.content.decode()
    in_production.refresh_from_db()
    assert in_production.current_phase.name == "Experimentation"

    resolve = reverse("dashboard:alert-resolve", args=[in_production.slug, alert.pk])
    assert client_for(contributor).post(resolve).status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.resolved_by == contributor


def test_a_move_back_from_an_alert_takes_a_due_date_and_a_note(in_production, manager):
    alert = drift_alert(in_production)
    move = reverse("dashboard:alert-move-back", args=[in_production.slug, alert.pk])
    page = client_for(manager).get(reverse("dashboard:project", args=[in_production.slug]))
    assert f'data-testid="alert-move-back-{alert.pk}"' in page.content.decode()

    refused = client_for(manager).post(move, {"due_date": "soon"}, follow=True)
    assert "New due date: Enter a valid date." in refused.content.decode()
    in_production.refresh_from_db()
    assert in_production.current_phase.name != "Experimentation", "nothing moved"

    due = timezone.localdate() + dt.timedelta(days=20)
    note = "Retrain on the holiday weeks first."
    client_for(manager).post(move, {"due_date": due.isoformat(), "note": note})
    in_production.refresh_from_db()
    assert in_production.current_phase.name == "Experimentation"
    assert in_production.current_phase.due_date == due
    reason = in_production.transitions.latest("created_at").reason
    assert reason.startswith(f"Alert #{alert.pk} ") and reason.endswith(note)


def test_an_alert_of_another_project_is_not_found(in_production, manager):
    other = make_project(owner=manager, name="Other")
    alert = drift_alert(in_production)
    url = reverse("dashboard:alert-acknowledge", args=[other.slug, alert.pk])
    assert client_for(manager).post(url).status_code == 404


def test_project_page_queries_do_not_grow_with_results(manager):
    few = make_project(owner=manager, name="Few")
    monitored_for(few, days=2, rows=200)
    many = make_project(owner=manager, name="Many")
    monitored_for(many, days=12, rows=200)
    client = client_for(manager)
    counts = []
    for project in (few, many):
        url = reverse("dashboard:project", args=[project.slug])
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_portfolio_lists_projects_with_firing_alerts_first(in_production, manager, viewer):
    make_project(owner=manager, name="Aardvark scoring")  # first by name, no alert
    html = client_for(manager).get(reverse("dashboard:portfolio")).content.decode()
    assert html.index("Churn model") < html.index("Aardvark scoring")
    assert f'data-testid="firing-{in_production.slug}"' in html


def test_an_alert_goes_by_its_id_in_its_row_its_task_and_the_history():
    """A monitor firing again links the earlier alert's open task: the row still names
    this alert by its own id, as the move back it makes records it."""
    from monitoring import services as monitoring
    from tests.monitoring.test_loop import fire
    from tests.monitoring.test_loop import in_production as walked_to_production

    project = walked_to_production()
    first = fire(project, MonitorKind.DATA_DRIFT)
    monitoring.alert_resolve(alert=first, by=None)
    again = fire(project, MonitorKind.DATA_DRIFT)
    assert again.follow_up_task == first.follow_up_task
    monitoring.alert_move_back(alert=again, by=project.owner)
    html = page(client_for(project.owner), project)
    row = html[html.index(f'data-testid="alert-{again.pk}"') :]
    row = row[: row.index("</tr>")]
    assert f"Alert #{again.pk} of “Data drift”" in row  # this alert's number, and
    assert f"Act on alert #{first.pk} of “Data drift”" in row  # the task it shares
    history = html[html.index('id="history"') :]
    assert f"Alert #{again.pk} of “Data drift” (firing since" in history


def test_an_alert_offers_no_move_back_to_the_phase_the_project_is_in():
    """Two alerts that send work to one phase: once the project is back there from one,
    the other has nowhere earlier to send it and says so instead of offering a refusal."""
    from monitoring import services as monitoring
    from tests.monitoring.test_loop import fire
    from tests.monitoring.test_loop import in_production as walked_to_production

    project = walked_to_production()
    drift = fire(project, MonitorKind.DATA_DRIFT)
    prediction = fire(project, MonitorKind.PREDICTION_DRIFT)
    client = client_for(project.owner)
    move = f'action="{reverse("dashboard:alert-move-back", args=[project.slug, prediction.pk])}"'
    assert move in page(client, project)
    monitoring.alert_move_back(alert=drift, by=project.owner)
    html = page(client, project)
    assert move not in html
    assert f'data-testid="already-in-{prediction.pk}">Already in Experimentation' in html


def test_a_monitor_without_a_number_yet_shows_its_status_and_no_chart(in_production, viewer):
    """Results that hold no number (not enough data) would draw a bare 0 to 1 axis."""
    import datetime as dt

    from django.utils import timezone

    from monitoring.choices import ResultStatus
    from monitoring.models import Monitor, Result

    freshness = Monitor.objects.get(project=in_production, kind=MonitorKind.FRESHNESS)
    now = timezone.now()
    for hours in (2, 1):
        Result.objects.create(
            monitor=freshness,
            deployment=freshness.deployment,
            window_start=now - dt.timedelta(hours=hours + 1),
            window_end=now - dt.timedelta(hours=hours),
            status=ResultStatus.NOT_ENOUGH_DATA,
            summary="No reference data yet.",
            computed_at=now,
        )
    drift = Monitor.objects.get(project=in_production, kind=MonitorKind.DATA_DRIFT)
    html = page(client_for(viewer), in_production)
    card = html[html.index('data-testid="monitor-freshness"') :]
    card = card[: card.index("</article>")]
    assert "No reference data yet." in card and "Not enough data" in card
    assert "data-figure" not in card and f"chart-monitor-{freshness.pk}" not in html
    assert f'id="chart-monitor-{drift.pk}"' in html  # a monitor with numbers keeps its chart
