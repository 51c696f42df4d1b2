"""A project's label for its success metric is what people read wherever the metric shows
(portfolio, runs list, run page, comparison, version page and card), with the key runs log
beside it; the label is user text, so it is escaped everywhere."""

import json

import pytest
from django.urls import reverse

from phases import services
from tests.dashboard.conftest import client_for
from tests.dashboard.test_experiments_views import html_of, sweep, url
from tests.dashboard.test_models import registered, version_url
from tests.factories import make_project

pytestmark = pytest.mark.django_db

LABEL = "Churners <script>alert(1)</script> caught"
ESCAPED = "Churners &lt;script&gt;alert(1)&lt;/script&gt; caught"
WITH_KEY = f'{ESCAPED} <span class="metric-key">(<code>val_auc</code>)</span>'


@pytest.fixture
def churn(manager):
    project = make_project(
        owner=manager, name="Churn model", success_metric="val_auc", success_target=0.72
    )
    services.project_update(project=project, by=manager, success_metric_label=LABEL)
    return project


def shows_label(html: str) -> None:
    assert WITH_KEY in html
    assert "<script>alert(1)" not in html


def test_the_portfolio_names_the_metric_by_its_label(churn, manager):
    sweep(churn, by=manager, n=2)
    shows_label(html_of(client_for(manager).get(reverse("dashboard:portfolio"))))


def test_the_runs_list_names_the_metric_by_its_label(churn, manager):
    sweep(churn, by=manager, n=3)
    html = html_of(client_for(manager).get(url(churn, "runs")))
    shows_label(html)
    assert "best on " + WITH_KEY in html
    assert "metrics.val_auc" in html  # the column still orders by the key
    # The column picker too, with the column's name beside the label; others by name.
    picker = html[html.index('class="column-picker"') :]
    picker = picker[: picker.index("</details>")]
    assert f'{ESCAPED} <span class="metric-key">(<code>metrics.val_auc</code>)</span>' in picker
    assert "<code>metrics.loss</code>" in picker


def test_the_run_page_names_the_metric_by_its_label(churn, manager):
    best = sweep(churn, by=manager, n=3)[-1]
    html = html_of(client_for(manager).get(url(churn, "run", best.run_id)))
    shows_label(html)
    assert f'data-testid="run-metric">{WITH_KEY}' in html
    assert f"on {WITH_KEY}" in html  # the rank
    assert "<code>loss</code>" in html  # other metrics keep their key


def test_the_comparison_names_the_metric_by_its_label_in_tables_and_charts(churn, manager):
    ids = [run.run_id for run in sweep(churn, by=manager, n=3)]
    client = client_for(manager)
    html = html_of(client.get(url(churn, "run-compare"), {"runs": ids, "key": "val_auc"}))
    shows_label(html)
    assert f"<span data-compare-key>{ESCAPED}</span>, run by run" in html
    assert f"{ESCAPED} (val_auc)</option>" in html
    parts = client.get(
        url(churn, "run-compare"), {"runs": ids, "key": "val_auc", "part": "figures"}
    )
    body = parts.json()
    assert (body["key"], body["label"]) == ("val_auc", LABEL)
    dumped = json.dumps(body["curves"]) + json.dumps(body["params"])
    assert "<script>" not in dumped  # Plotly renders titles as HTML: escaped on the server
    assert "Churners" in json.dumps(body["curves"]["layout"]["yaxis"])
    other = client.get(url(churn, "run-compare"), {"runs": ids, "key": "loss", "part": "figures"})
    assert other.json()["label"] == "loss"


def test_the_version_page_and_card_name_the_metric_by_its_label(churn, manager):
    registered(churn, manager, versions=2, values=[0.70, 0.75])
    client = client_for(manager)
    html = html_of(client.get(version_url(churn, "churn", 2)))
    shows_label(html)
    assert f'data-testid="evaluation-metric">{WITH_KEY}' in html
    metrics = html[html.index('id="version-metrics"') :]
    assert f'<th scope="row">{WITH_KEY}</th>' in metrics[: metrics.index("</table>")]
    markdown = client.get(version_url(churn, "churn", 2, "model-card-markdown")).content.decode()
    assert "- Success metric: Churners" in markdown and "(key val\\_auc)" in markdown


def test_without_a_label_the_pages_show_the_key(manager):
    project = make_project(owner=manager, name="Fraud", success_metric="val_auc")
    sweep(project, by=manager, n=2)
    html = html_of(client_for(manager).get(url(project, "runs")))
    assert "best on <code>val_auc</code>" in html
    assert "metric-key" not in html
