"""The experiment parts of the dashboard through HTTP: the leaderboard and success metric on
a project page, run pages, the run list and comparisons; who may open them, and escaping.

Runs and metrics are made through ``experiments.services``, as the MLflow layer makes them.
"""

import math
import re

import pytest
from django.urls import reverse

from dashboard import selectors, sharing
from dashboard import services as dashboard_services
from experiments import services as runs
from experiments.choices import RunStatus
from experiments.services import MetricIn
from phases import services
from phases.choices import EvidenceRule, Role, TaskStatus
from phases.selectors import phase_gate
from tests.dashboard.conftest import client_for
from tests.dashboard.test_views import figure
from tests.factories import make_project

pytestmark = pytest.mark.django_db

T0 = 1_767_000_000_000  # 2025-12-29, in MLflow's milliseconds


def log_run(
    experiment,
    *,
    by,
    name: str,
    params: dict[str, str] | None = None,
    metrics: dict[str, list[float]] | None = None,
    start: int = T0,
    status: str = RunStatus.FINISHED,
):
    """A finished run with ``params`` and each metric's values logged at steps 0, 1, ..."""
    run = runs.run_create(experiment=experiment, by=by, name=name, start_time=start)
    points = [
        MetricIn(key, float(value), start + 1000 * step, step)
        for key, values in (metrics or {}).items()
        for step, value in enumerate(values)
    ]
    for offset in range(0, max(len(points), 1), 1000):
        runs.log_batch(
            run=run,
            by=by,
            metrics=points[offset : offset + 1000],
            params=list((params or {}).items()) if offset == 0 else [],
        )
    return runs.run_update(run=run, by=by, status=status, end_time=start + 60_000)


def sweep(project, *, by, n: int, metric: str = "val_auc", experiment: str = "sweep"):
    """``n`` runs of a small hyperparameter search; run ``i`` ends at ``0.5 + i / (2n)``
    on ``metric``, so the last run is the best when higher is better."""
    found = project.experiments.filter(name=experiment).first()
    found = found or runs.experiment_create(project=project, name=experiment, by=by)
    made = []
    for i in range(n):
        final = 0.5 + i / (2 * n)
        made.append(
            log_run(
                found,
                by=by,
                name=f"trial-{i:03d}",
                params={
                    "learning_rate": f"{10 ** -(1 + i % 4):g}",
                    "optimizer": ("adam", "sgd", "rmsprop")[i % 3],
                    "max_depth": str(3 + i % 5),
                    "seed": "42",
                },
                metrics={
                    metric: [final * (1 - math.exp(-(s + 1) / 3)) for s in range(12)],
                    "loss": [1.5 / (s + 1) for s in range(12)],
                },
                start=T0 + i * 60_000,
            )
        )
    return made


def url(project, name: str, *args) -> str:
    return reverse(f"dashboard:{name}", args=[project.slug, *args])


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- The project page ------------------------------------------------------------------


def leaderboard(page: str) -> list[str]:
    """The run names of the leaderboard, in rank order."""
    table = page[page.index('class="data leaderboard"') :]
    table = table[: table.index("</table>")]
    return re.findall(r'<th scope="row">(?:<a href="[^"]*">)?(.*?)(?:</a>)?</th>', table)


def test_leaderboard_ranks_the_best_ten_runs_on_the_success_metric(manager, viewer, project):
    made = sweep(project, by=manager, n=14)
    page = html_of(client_for(viewer).get(url(project, "project")))

    assert leaderboard(page) == [f"trial-{i:03d}" for i in range(13, 3, -1)]
    assert "14 of 14 runs rank on it." in page
    best = made[-1]
    assert f'href="{url(project, "run", best.run_id)}"' in page
    # Only params that differ between the ranked runs are shown; the constant seed is not.
    head = page[page.index('class="data leaderboard"') : page.index("</thead>")]
    assert re.findall(r'class="param key">(\w+)<', head) == [
        "learning_rate",
        "max_depth",
        "optimizer",
    ]
    assert page.count('name="runs"') == 10


def test_lower_is_better_ranks_the_smallest_first(manager, viewer):
    project = make_project(
        owner=manager, success_metric="val_rmse", success_target=0.3, success_direction="minimize"
    )
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    sweep(project, by=manager, n=6, metric="val_rmse")
    page = html_of(client_for(viewer).get(url(project, "project")))

    assert leaderboard(page) == [f"trial-{i:03d}" for i in range(6)]
    gauge = figure(client_for(viewer).get(url(project, "project")), "chart-success")["data"][0]
    assert gauge["gauge"]["steps"][0]["range"][1] == 0.3  # the shaded side is below target
    assert "above the target of 0.3" in page


def test_runs_that_cannot_rank_are_left_out(manager, viewer, project, outsider):
    experiment = runs.experiment_create(project=project, name="edge cases", by=manager)
    log_run(experiment, by=manager, name="good", metrics={"val_auc": [0.7]})
    log_run(experiment, by=manager, name="diverged", metrics={"val_auc": [0.9, math.nan]})
    log_run(experiment, by=manager, name="overflowed", metrics={"val_auc": [math.inf]})
    log_run(experiment, by=manager, name="no metric", metrics={"loss": [1.0]})
    deleted = log_run(experiment, by=manager, name="deleted", metrics={"val_auc": [0.99]})
    runs.run_delete(run=deleted, by=manager)
    elsewhere = make_project(owner=outsider, success_metric="val_auc")
    sweep(elsewhere, by=outsider, n=2)

    page = html_of(client_for(viewer).get(url(project, "project")))

    assert leaderboard(page) == ["good"]
    assert "1 of 4 runs rank on it (a run that failed, or has no finite value" in page


def test_on_a_tie_the_gate_and_the_leaderboard_name_the_same_run(manager, viewer, project):
    """One ranking: two runs that end on the same value rank the earlier first, on the
    leaderboard and in the gate's evidence of the same page."""
    services.outcome_create(
        phase=project.current_phase,
        by=manager,
        name="Model good enough",
        evidence_rule=EvidenceRule.BEST_RUN_MEETS_TARGET,
    )
    experiment = runs.experiment_create(project=project, name="tied", by=manager)
    later = log_run(experiment, by=manager, name="later", metrics={"val_auc": [0.9]}, start=T0 + 1)
    first = log_run(experiment, by=manager, name="first", metrics={"val_auc": [0.9]}, start=T0)

    page = html_of(client_for(viewer).get(url(project, "project")))

    assert leaderboard(page) == ["first", "later"]
    gate = phase_gate(phase=project.current_phase)
    (evidence,) = [c for c in gate.criteria if c.kind == "evidence"]
    assert evidence.evidence["run_id"] == first.run_id != later.run_id
    assert f"(run “first”, {first.run_id[:8]}…) meets the target" in page


def test_after_a_loop_back_the_metric_card_says_what_the_gate_reads(manager, viewer, project):
    """The leaderboard ranks every run, but the reopened phase's gate reads only the runs
    started since the move back: the page says so, names the gate's run, and marks the
    runs from before."""
    phase = project.current_phase
    services.outcome_create(
        phase=phase,
        by=manager,
        name="Model good enough",
        evidence_rule=EvidenceRule.BEST_RUN_MEETS_TARGET,
    )
    for task in phase.tasks.filter(required=True):
        services.task_set_status(task=task, status=TaskStatus.DONE, by=manager)
    experiment = runs.experiment_create(project=project, name="drifted", by=manager)
    log_run(experiment, by=manager, name="before-drift", metrics={"val_auc": [0.9]})
    for each in phase.outcomes.filter(required=True):
        services.outcome_submit(outcome=each, by=manager, evidence_url="https://example.com")
        services.outcome_accept(outcome=each, by=manager)
    services.phase_advance(project=project, by=manager)
    services.phase_move_back(project=project, to_phase=phase, by=manager, reason="Drift")
    retrained = log_run(
        experiment,
        by=manager,
        name="retrained",
        metrics={"val_auc": [0.8]},
        start=runs.now_ms() + 1000,
    )

    page = html_of(client_for(viewer).get(url(project, "project")))

    assert leaderboard(page) == ["before-drift", "retrained"]
    gate = phase_gate(phase=phase)
    (evidence,) = [c for c in gate.criteria if c.kind == "evidence"]
    assert evidence.evidence["run_id"] == retrained.run_id
    since = page[page.index('data-testid="metric-since-reopen"') :]
    since = since[: since.index("</p>")]
    assert "Since the move back on" in since and f"{phase.name} reads only" in since
    assert f'href="{url(project, "run", retrained.run_id)}">retrained</a>' in since
    assert "short of the target" in since
    rows = page[page.index('class="data leaderboard"') : page.index("</table>")]
    first, second = rows.split("<tr>")[2:4]
    assert "before move back" in first and "before move back" not in second


def test_a_failed_run_has_no_rank(manager, viewer, project):
    experiment = runs.experiment_create(project=project, name="crashes", by=manager)
    log_run(experiment, by=manager, name="finished", metrics={"val_auc": [0.7]}, start=T0)
    log_run(
        experiment,
        by=manager,
        name="crashed",
        metrics={"val_auc": [0.95]},
        start=T0 + 1,
        status=RunStatus.FAILED,
    )
    client = client_for(viewer)

    page = html_of(client.get(url(project, "project")))
    listed = html_of(client.get(url(project, "runs")))

    assert leaderboard(page) == ["finished"]
    assert "1 of 2 runs rank on it (a run that failed" in page
    # The run list still shows the failed run and its value, after every ranked run.
    assert re.findall(r'<th scope="row"><a href="[^"]*">(.*?)</a>', listed) == [
        "finished",
        "crashed",
    ]
    assert '<data value="0.95">' in listed


def test_success_metric_against_its_target(manager, viewer, project):
    sweep(project, by=manager, n=4)  # the best ends at 0.875, over the target of 0.85
    response = client_for(viewer).get(url(project, "project"))
    page = html_of(response)

    gauge = figure(response, "chart-success")["data"][0]
    assert (gauge["type"], gauge["gauge"]["shape"]) == ("indicator", "bullet")
    assert gauge["value"] == pytest.approx(0.875 * (1 - math.exp(-4)))
    assert gauge["gauge"]["threshold"]["value"] == 0.85
    assert "it meets the target of 0.85" in page
    assert '<span class="tag tag-done">met</span>' in page


def test_success_metric_below_target_says_by_how_much(manager, viewer, project):
    sweep(project, by=manager, n=2)  # the best ends near 0.74
    page = html_of(client_for(viewer).get(url(project, "project")))
    assert re.search(r"0\.1\d* below the target of 0\.85", page)
    assert '<span class="tag tag-done">met</span>' not in page


def test_curves_of_the_best_five_runs(manager, viewer, project):
    sweep(project, by=manager, n=8)
    curves = figure(client_for(viewer).get(url(project, "project")), "chart-curves")
    assert [trace["name"] for trace in curves["data"]] == [
        f"trial-{i:03d}" for i in range(7, 2, -1)
    ]
    assert {trace["type"] for trace in curves["data"]} == {"scatter"}
    assert curves["data"][0]["x"] == list(range(12))
    assert curves["layout"]["shapes"][0]["y0"] == 0.85


def test_runs_of_one_value_each_draw_no_curves(manager, viewer, project):
    """A sweep's trials log their score once: a line chart of single points at step 0
    says nothing the leaderboard does not, so there is none, here or in a comparison."""
    experiment = runs.experiment_create(project=project, name="trials", by=manager)
    made = [
        log_run(experiment, by=manager, name=f"trial-{i}", metrics={"val_auc": [0.6 + i / 20]},
                params={"C": str(i + 1)})
        for i in range(3)
    ]  # fmt: skip
    page = html_of(client_for(viewer).get(url(project, "project")))
    assert 'id="chart-curves"' not in page and "trial-2" in page
    compared = client_for(viewer).get(
        url(project, "run-compare"), {"runs": [run.run_id for run in made]}
    )
    assert 'id="chart-compare-curves"' not in html_of(compared)
    assert figure(compared, "chart-params")["data"]  # what the values depend on, still drawn


def test_long_series_come_downsampled(manager, viewer, project):
    experiment = runs.experiment_create(project=project, name="long", by=manager)
    values = [math.sin(i / 100) for i in range(5000)]
    log_run(experiment, by=manager, name="long run", metrics={"val_auc": values})
    curve = figure(client_for(viewer).get(url(project, "project")), "chart-curves")["data"][0]
    assert len(curve["y"]) <= selectors.CURVE_POINTS
    assert "of 5,000 points" in curve["hovertemplate"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("nothing", "No experiment runs yet."),
        ("no metric", "Runs are ranked on the project's success metric, which is not set yet"),
        ("not logged", "none with a value of <code>val_auc</code> yet"),
    ],
)
def test_empty_states_say_what_to_do(manager, viewer, project, setup, expected):
    if setup == "no metric":
        services.project_update(project=project, by=manager, success_metric="")
    if setup != "nothing":
        experiment = runs.experiment_create(project=project, name="e", by=manager)
        log_run(experiment, by=manager, name="r", metrics={"loss": [1.0]})
    page = html_of(client_for(viewer).get(url(project, "project")))
    assert expected in page
    assert 'id="chart-curves"' not in page


# --- Who may open what -----------------------------------------------------------------


RUN_PAGES = ["runs", "run", "run-compare"]


def run_page_url(project, name: str, run) -> str:
    if name == "run":
        return url(project, name, run.run_id)
    if name == "run-compare":
        return url(project, name) + f"?runs={run.run_id}"
    return url(project, name)


@pytest.mark.parametrize("name", RUN_PAGES)
def test_anonymous_is_sent_to_sign_in(client, manager, project, name):
    run = sweep(project, by=manager, n=1)[0]
    target = run_page_url(project, name, run)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", RUN_PAGES)
def test_outsiders_get_404_and_members_get_the_page(request, manager, project, outsider, name):
    run = sweep(project, by=manager, n=1)[0]
    target = run_page_url(project, name, run)
    assert client_for(outsider).get(target).status_code == 404
    for who in ("viewer", "contributor", "manager", "staff"):
        user = request.getfixturevalue(who)
        assert client_for(user).get(target).status_code == 200, who


def test_a_run_is_reached_only_through_its_own_project(manager, project):
    other = make_project(owner=manager, name="Other", success_metric="val_auc")
    theirs = sweep(other, by=manager, n=1)[0]
    client = client_for(manager)
    assert client.get(url(project, "run", theirs.run_id)).status_code == 404
    assert client.get(url(project, "run", "0" * 32)).status_code == 404
    assert client.get(url(other, "run", theirs.run_id)).status_code == 200
    # A comparison ignores ids of other projects' runs, as if they did not exist.
    mine = sweep(project, by=manager, n=2)
    ids = ",".join([mine[0].run_id, theirs.run_id, mine[1].run_id])
    page = html_of(client.get(url(project, "run-compare"), {"runs": ids}))
    assert "1 of the runs asked for is not in this project" in page
    assert theirs.run_id not in page.replace(f"runs={ids}", "")


def test_shared_link_shows_the_leaderboard_but_reaches_no_run(client, manager, project):
    made = sweep(project, by=manager, n=12)
    link = dashboard_services.shared_link_create(project=project, by=manager)
    token = sharing.token_for(link_id=link.pk, nonce=link.nonce)
    response = client.get(reverse("dashboard:shared", args=[token]))
    page = html_of(response)

    assert leaderboard(page)[0] == "trial-011"
    assert figure(response, "chart-success")["data"][0]["type"] == "indicator"
    assert len(figure(response, "chart-curves")["data"]) == selectors.CURVE_RUNS
    assert "/runs/" not in page
    assert 'type="checkbox"' not in page
    assert "<form" not in page
    assert "MLFLOW_TRACKING_URI" not in page
    # Nothing of the runs hangs off the token, and the run pages want a session.
    run = made[-1]
    for path in (f"runs/{run.run_id}/", "runs/", f"runs/compare/?runs={run.run_id}"):
        assert client.get(f"/shared/{token}/{path}").status_code == 404
    assert client.get(url(project, "run", run.run_id)).status_code == 302


# --- Escaping --------------------------------------------------------------------------

NASTY = "<script>alert('run')</script>"
NASTY_VALUE = '<img src=x onerror="alert(1)">'


def test_run_names_and_values_are_escaped_everywhere(manager, viewer, project):
    made = sweep(project, by=manager, n=2)
    experiment = runs.experiment_create(project=project, name=f"exp {NASTY}", by=manager)
    nasty = log_run(
        experiment,
        by=manager,
        name=NASTY,
        params={"optimizer": NASTY_VALUE, "learning_rate": "0.5", "max_depth": "3"},
        metrics={"val_auc": [0.2, 0.99]},
    )
    runs.log_batch(run=nasty, by=manager, tags=[("note", NASTY_VALUE)])
    client = client_for(viewer)
    ids = ",".join(run.run_id for run in [*made, nasty])
    pages = {
        "project": client.get(url(project, "project")),
        "runs": client.get(url(project, "runs")),
        "run": client.get(url(project, "run", nasty.run_id)),
        "compare": client.get(url(project, "run-compare"), {"runs": ids}),
    }
    for name, response in pages.items():
        page = html_of(response)
        assert "<script>alert" not in page, name
        assert "<img src=x" not in page, name
        assert "&lt;script&gt;alert(&#x27;run&#x27;)&lt;/script&gt;" in page, name
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html_of(pages["run"])
    # In figures, user text is escaped once more for Plotly, which renders some tags.
    assert figure(pages["project"], "chart-curves")["data"][0]["name"] == (
        "&lt;script&gt;alert('run')&lt;/script&gt;"
    )


# --- The run list -------------------------------------------------------------------------


def test_run_list_pages_through_every_run_best_first(manager, viewer, project, monkeypatch):
    monkeypatch.setattr("dashboard.selectors.runs.RUNS_PAGE_SIZE", 5)
    sweep(project, by=manager, n=7)
    experiment = runs.experiment_create(project=project, name="unmeasured", by=manager)
    log_run(experiment, by=manager, name="no metric yet", metrics={"loss": [1.0]})
    client = client_for(viewer)

    first = html_of(client.get(url(project, "runs")))
    second = html_of(client.get(url(project, "runs"), {"page": 2}))
    names = re.findall(r'<th scope="row"><a href="[^"]*">(.*?)</a>', first + second)
    assert names == [f"trial-{i:03d}" for i in range(6, -1, -1)] + ["no metric yet"]
    assert "8 runs" in first
    assert "Page 1 of 2" in first


def listed(response) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]*">(.*?)</a>', html_of(response))


def test_run_list_searches_with_the_mlflow_grammar(manager, viewer, project):
    sweep(project, by=manager, n=6)  # val_auc of trial i ends at 0.5 + i / 12 * 0.95...
    other = runs.experiment_create(project=project, name="baselines", by=manager)
    log_run(other, by=manager, name="lgbm", params={"model": "lgbm"}, metrics={"val_auc": [0.9]})
    log_run(other, by=manager, name="linear", params={"model": "lr"}, metrics={"val_auc": [0.6]})
    log_run(
        other,
        by=manager,
        name="crashed lgbm",
        params={"model": "lgbm"},
        metrics={"val_auc": [0.95]},
        status=RunStatus.FAILED,
    )
    client = client_for(viewer)
    runs_url = url(project, "runs")

    found = client.get(runs_url, {"filter": "metrics.val_auc > 0.8 and params.model = 'lgbm'"})
    assert found.status_code == 200
    assert listed(found) == ["lgbm", "crashed lgbm"], "a failed run matches but never ranks"
    assert "2 runs match" in html_of(found)
    nothing = html_of(client.get(runs_url, {"filter": "params.model = 'xgboost'"}))
    assert re.search(r'<p class="lede">0 runs match\.</p>', nothing), "no order, nothing to tick"

    assert listed(client.get(runs_url, {"filter": "attributes.status = 'FAILED'"})) == [
        "crashed lgbm"
    ]
    assert listed(client.get(runs_url, {"status": "FAILED"})) == ["crashed lgbm"]
    assert listed(
        client.get(runs_url, {"experiment": other.pk, "filter": "params.model LIKE 'l%'"})
    ) == ["lgbm", "linear", "crashed lgbm"]
    none = client.get(runs_url, {"filter": "params.model = 'xgboost'"})
    assert "No run matches this search" in html_of(none)


def test_run_list_sorts_by_any_column_and_shows_the_columns_picked(manager, viewer, project):
    sweep(project, by=manager, n=4)
    client = client_for(viewer)
    runs_url = url(project, "runs")

    by_name = client.get(runs_url, {"order": "attributes.run_name ASC"})
    assert listed(by_name) == ["trial-000", "trial-001", "trial-002", "trial-003"]
    assert 'aria-sort="ascending"' in html_of(by_name)
    assert listed(client.get(runs_url, {"order": "metrics.val_auc ASC"}))[0] == "trial-000"
    assert listed(client.get(runs_url, {"order": "params.max_depth DESC"}))[0] == "trial-003"

    picked = html_of(client.get(runs_url, {"cols": ["metrics.loss", "params.seed", "nope"]}))
    header = picked[picked.index("<thead>") : picked.index("</thead>")]
    assert ">loss<" in header and ">seed<" in header
    assert ">val_auc<" not in header, "the columns picked replace the default ones"
    assert ">Duration<" in header
    assert "1 min" in picked  # each run of the sweep lasts a minute
    assert (
        'value="metrics.loss" checked' in picked
        or 'checked value="metrics.loss"' in picked
        or ('value="metrics.loss"' in picked and "checked" in picked)
    )


@pytest.mark.parametrize(
    "text",
    [
        "metrics.val_auc >",
        "metrics.val_auc > 'high'",
        "params.model = 1",
        "params.model = 'a' or params.model = 'b'",
        "(metrics.a > 1)",
        "nonsense.key = 'x'",
        "attributes.password = 'x'",
        "metrics.val_auc > 0.8 and",
        "'; DROP TABLE experiments_run; --",
        "params.model = 'a\x00b'",
        "params.`model = 'x'",
        "metrics.a IN ('x')",
        "x" * 1001,
        "tags.t = '" + "\u202e" * 3 + "'",
        "<script>alert(1)</script>",
    ],
)
def test_a_search_that_does_not_parse_is_a_400_that_says_why(manager, viewer, project, text):
    sweep(project, by=manager, n=2)
    text = text.encode().decode("unicode_escape") if "\\" in text else text
    response = client_for(viewer).get(url(project, "runs"), {"filter": text})
    page = response.content.decode()
    if response.status_code == 200:
        # Only a clause that is valid grammar may pass: a harmless search with no match.
        assert "No run matches this search" in page or "<tbody>" in page
        return
    assert response.status_code == 400
    assert 'data-testid="search-error"' in page
    assert 'aria-invalid="true"' in page
    assert "<script>alert(1)</script>" not in page


@pytest.mark.parametrize("order", ["metrics.", "sideways", "metrics.a UP", "a, b", "datasets.name"])
def test_an_order_that_does_not_parse_is_a_400_too(manager, viewer, project, order):
    response = client_for(viewer).get(url(project, "runs"), {"order": order})
    assert response.status_code == 400
    assert 'data-testid="order-error"' in response.content.decode()


# --- The run page ------------------------------------------------------------------------


def test_run_page_shows_params_tags_and_a_chart_per_metric(manager, viewer, project):
    experiment = runs.experiment_create(project=project, name="main", by=manager)
    run = log_run(
        experiment,
        by=manager,
        name="baseline",
        params={"learning_rate": "0.01", "optimizer": "adam"},
        metrics={"val_auc": [0.5, 0.7, 0.8], "loss": [1.0, 0.5, 0.25]},
    )
    runs.log_batch(run=run, by=manager, tags=[("team", "risk")])
    response = client_for(viewer).get(url(project, "run", run.run_id))
    page = html_of(response)

    assert "<h1>baseline</h1>" in page
    assert "Finished" in page
    for text in ("learning_rate", "0.01", "optimizer", "adam", "team", "risk"):
        assert f">{text}<" in page, text
    assert "1 tag set by MLflow" in page  # mlflow.runName, out of the way
    loss, auc = figure(response, "chart-metric-1"), figure(response, "chart-metric-2")
    assert loss["data"][0]["y"] == [1.0, 0.5, 0.25]
    assert loss["layout"]["shapes"] == []
    assert auc["layout"]["shapes"][0]["y0"] == 0.85  # the success metric shows its target


def test_run_page_names_who_created_the_run_not_what_the_client_claimed(manager, viewer, project):
    manager.first_name, manager.last_name = "Mei", "Chen"
    manager.save()
    experiment = runs.experiment_create(project=project, name="main", by=manager)
    run = log_run(experiment, by=manager, name="baseline")
    # What the MLflow client sends as user_id is the machine's login, not the signed-in user.
    type(run).objects.filter(pk=run.pk).update(user_id="root")
    page = html_of(client_for(viewer).get(url(project, "run", run.run_id)))
    assert " · by Mei Chen</p>" in page and "root" not in page
    anonymous = log_run(experiment, by=None, name="imported")
    type(run).objects.filter(pk=anonymous.pk).update(user_id="ci-bot")
    assert " · by ci-bot</p>" in html_of(
        client_for(viewer).get(url(project, "run", anonymous.run_id))
    )


def test_run_page_puts_the_latest_values_first_and_a_single_value_as_a_number(
    manager, viewer, project
):
    experiment = runs.experiment_create(project=project, name="main", by=manager)
    run = log_run(
        experiment,
        by=manager,
        name="final",
        metrics={"test_auc": [0.91], "loss": [1.0, 0.5, 0.25]},
    )
    response = client_for(viewer).get(url(project, "run", run.run_id))
    page = html_of(response)
    assert page.index("Latest value of every metric") < page.index('data-figure="chart-metric-')
    assert page.count('data-figure="chart-metric-') == 1, "one chart: loss"
    singles = page[page.index('data-testid="single-values"') :]
    assert "test_auc" in singles[: singles.index("</ul>")]
    assert '<data value="0.91">0.91</data>' in singles
    assert "one value" in page


def test_run_page_shows_its_rank_and_the_runs_either_side(manager, viewer, project):
    made = sweep(project, by=manager, n=5)  # trial-004 is the best on val_auc
    failed = log_run(
        made[0].experiment,
        by=manager,
        name="crashed",
        metrics={"val_auc": [0.99]},
        status=RunStatus.FAILED,
    )
    client = client_for(viewer)

    middle = html_of(client.get(url(project, "run", made[2].run_id)))
    assert re.search(r'data-testid="run-rank">3 of 5', middle)
    assert f'href="{url(project, "run", made[3].run_id)}" rel="prev"' in middle
    assert f'href="{url(project, "run", made[1].run_id)}" rel="next"' in middle

    best = html_of(client.get(url(project, "run", made[4].run_id)))
    assert re.search(r'data-testid="run-rank">1 of 5', best)
    assert 'data-testid="run-previous"' not in best
    last = html_of(client.get(url(project, "run", made[0].run_id)))
    assert 'data-testid="run-next"' not in last

    crashed = html_of(client.get(url(project, "run", failed.run_id)))
    assert "a failed run never ranks" in crashed


def test_run_page_draws_twelve_charts_at_a_time(manager, viewer, project):
    experiment = runs.experiment_create(project=project, name="many", by=manager)
    metrics = {f"m{i:02d}": [float(i), float(i + 1)] for i in range(15)}
    run = log_run(experiment, by=manager, name="wide", metrics=metrics)
    client = client_for(viewer)

    first = html_of(client.get(url(project, "run", run.run_id)))
    assert first.count('data-figure="chart-metric-') == selectors.RUN_CHARTS
    assert "Charts 1\u201312 of the metrics logged more than once" in first
    # Every metric is listed; those on the next page link there.
    assert first.count("Chart<span") == 15
    assert '?charts=2#metric-13"' in first

    second = client.get(url(project, "run", run.run_id), {"charts": 2})
    assert html_of(second).count('data-figure="chart-metric-') == 3
    assert figure(second, "chart-metric-13")["data"][0]["y"] == [12.0, 13.0]
    tampered = html_of(client.get(url(project, "run", run.run_id), {"charts": "x"}))
    assert "Charts 1\u201312 of the metrics logged more than once" in tampered


def test_a_deleted_run_still_opens_and_says_so(manager, viewer, project):
    run = sweep(project, by=manager, n=1)[0]
    runs.run_delete(run=run, by=manager)
    page = html_of(client_for(viewer).get(url(project, "run", run.run_id)))
    assert "This run is deleted" in page


# --- Comparing runs ----------------------------------------------------------------------


def test_compare_overlays_curves_and_draws_params_against_the_metric(manager, viewer, project):
    made = sweep(project, by=manager, n=5)
    client = client_for(viewer)
    response = client.get(
        url(project, "run-compare"), {"runs": [made[0].run_id, made[1].run_id, made[3].run_id]}
    )
    listed = client.get(
        url(project, "run-compare"), {"runs": f"{made[0].run_id},{made[1].run_id},{made[3].run_id}"}
    )
    for chart in ("chart-compare-curves", "chart-params"):
        assert figure(response, chart) == figure(listed, chart)

    page = html_of(response)
    assert '<option value="val_auc" selected>' in page
    assert '<option value="loss">' in page
    curves = figure(response, "chart-compare-curves")
    assert [trace["name"] for trace in curves["data"]] == ["trial-000", "trial-001", "trial-003"]
    params = figure(response, "chart-params")["data"][0]
    assert params["type"] == "parcoords"
    assert [d["label"] for d in params["dimensions"]] == [
        "Run",
        "learning_rate (log)",
        "max_depth",
        "optimizer",
        "val_auc",
    ]


def test_compare_another_metric(manager, viewer, project):
    made = sweep(project, by=manager, n=3)
    response = client_for(viewer).get(
        url(project, "run-compare"),
        {"runs": ",".join(run.run_id for run in made), "key": "loss"},
    )
    curves = figure(response, "chart-compare-curves")
    assert curves["layout"]["yaxis"]["title"]["text"] == "loss"
    assert curves["layout"]["shapes"] == []  # loss is not the success metric: no target
    params = figure(response, "chart-params")["data"][0]
    assert params["dimensions"][-1]["label"] == "loss"
    # Not the success metric: its name says which way is better, for the chart as for the
    # table's best mark.
    assert params["line"]["reversescale"] is True
    page = html_of(response)
    assert "darker lines did better (lower is better, as the name of the metric tells)" in page


def test_compare_needs_two_runs_and_takes_at_most_twenty(manager, viewer, project):
    made = sweep(project, by=manager, n=22)
    client = client_for(viewer)
    one = html_of(client.get(url(project, "run-compare"), {"runs": made[0].run_id}))
    assert "Pick at least two runs" in one
    assert 'id="chart-params"' not in one
    none = html_of(client.get(url(project, "run-compare")))
    assert "Pick at least two runs" in none

    response = client.get(
        url(project, "run-compare"), {"runs": ",".join(run.run_id for run in made)}
    )
    page = html_of(response)
    assert "You picked 22 runs: the first 20 are compared" in page
    assert len(figure(response, "chart-compare-curves")["data"]) == selectors.MAX_COMPARED


def test_run_list_without_a_success_metric_is_newest_first(manager, viewer, project):
    services.project_update(project=project, by=manager, success_metric="")
    sweep(project, by=manager, n=3)
    page = html_of(client_for(viewer).get(url(project, "runs")))
    names = re.findall(r'<th scope="row"><a href="[^"]*">(.*?)</a>', page)
    assert names == ["trial-002", "trial-001", "trial-000"]
    assert "newest first" in page


# --- The portfolio's success-metric column -----------------------------------------------


def test_portfolio_shows_the_phase_number_and_the_best_run_against_the_target(manager, project):
    experiment = runs.experiment_create(project=project, name="churn", by=manager)
    log_run(experiment, by=manager, name="good", metrics={"val_auc": [0.5, 0.9]})
    log_run(experiment, by=manager, name="worse", metrics={"val_auc": [0.7]})
    log_run(
        experiment,
        by=manager,
        name="better but failed",
        metrics={"val_auc": [0.99]},
        status=RunStatus.FAILED,
    )
    html = client_for(manager).get(reverse("dashboard:portfolio")).content.decode()
    assert "phase 1 of 4" in html
    cell = html[html.index(f'data-testid="best-{project.slug}"') :]
    cell = cell[: cell.index("</td>")]
    assert '<data value="0.9">0.9</data>' in cell
    assert "target 0.85" in cell and "tag-met" in cell
    assert "0.99" not in cell, "a failed run has no rank"


def test_compare_lists_every_metric_with_the_best_marked(manager, viewer, project):
    made = sweep(project, by=manager, n=3)
    picked = ",".join(run.run_id for run in made)
    response = client_for(viewer).get(url(project, "run-compare"), {"runs": picked})
    page = html_of(response)
    header = page[page.index('aria-labelledby="compared-heading"') :]
    header = header[: header.index("</thead>")]
    assert ">loss<" in header and ">val_auc<" in header
    assert "lower is better" in header and "higher is better" in header
    best = re.findall(r'data-testid="best"><data value="([^"]+)"', page)
    # The best val_auc (the last trial's, higher is better); every run ends on the same
    # loss, which marks none of them.
    assert len(best) == 1
    assert float(best[0]) == max(r.metric_series.get(key="val_auc").latest_value for r in made)


def test_compare_leaves_out_a_deleted_run(manager, viewer, project):
    """A deleted run is out of every list and chart until it is restored: a comparison
    asked for it (an old link) leaves it out, as the leaderboard and the run list do."""
    made = sweep(project, by=manager, n=3)
    runs.run_delete(run=made[2], by=manager)
    picked = ",".join(run.run_id for run in made)

    response = client_for(viewer).get(url(project, "run-compare"), {"runs": picked})

    page = html_of(response)
    assert "1 of the runs asked for is not in this project and is left out" in page
    assert made[2].name not in page
    assert len(figure(response, "chart-compare-curves")["data"]) == 2


def test_a_nan_or_an_infinity_reads_as_logged_but_is_no_value_to_compare(manager, viewer, project):
    """The run list and the run page show what a run logged, a NaN as "NaN"; a comparison
    places and marks only finite values, so there a NaN or an infinity is no value."""
    experiment = runs.experiment_create(project=project, name="edge cases", by=manager)
    good = log_run(experiment, by=manager, name="good", metrics={"val_auc": [0.7]})
    nan = log_run(experiment, by=manager, name="diverged", metrics={"val_auc": [0.9, math.nan]})
    inf = log_run(experiment, by=manager, name="overflowed", metrics={"val_auc": [math.inf]})
    client = client_for(viewer)

    listed = html_of(client.get(url(project, "runs")))
    rows = {name: listed[listed.index(f">{name}<") :] for name in ("diverged", "overflowed")}
    assert rows["diverged"][: rows["diverged"].index("</tr>")].count(">NaN<") == 1
    assert '<data value="inf">inf</data>' in rows["overflowed"][: rows["overflowed"].index("</tr>")]
    assert ">NaN<" in html_of(client.get(url(project, "run", nan.run_id)))

    picked = ",".join(run.run_id for run in (good, nan, inf))
    response = client.get(url(project, "run-compare"), {"runs": picked})
    page = html_of(response)
    assert "Fewer than two of these runs have a value of" in page  # nothing to place
    table = page[page.index('aria-labelledby="compared-heading"') :]
    assert re.findall(r'<data value="([^"]+)"', table) == ["0.7"]
    assert 'data-testid="best"' not in table  # a single value marks no run out


def test_compare_answers_the_charts_of_another_metric_as_json(manager, viewer, project):
    made = sweep(project, by=manager, n=3)
    picked = ",".join(run.run_id for run in made)
    response = client_for(viewer).get(
        url(project, "run-compare"), {"runs": picked, "key": "loss", "part": "figures"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["key"] == "loss"
    assert body["curves"]["layout"]["yaxis"]["title"]["text"] == "loss"
    assert body["params"]["data"][0]["dimensions"][-1]["label"] == "loss"
