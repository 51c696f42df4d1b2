"""Each page with charts loads the plotly.js bundle it names, the smallest of
``dashboard.plotly.BUNDLES`` that holds every trace the page asks for, and that bundle
draws every chart of the page, without a script error. plotly.js draws a trace of a type
its bundle lacks as an invisible scatter, with no error: so the types are compared. The
bundles' own lists of traces are checked against what each registers.
"""

import pytest
from django.db import close_old_connections
from django.urls import reverse

from dashboard import plotly
from experiments import services as experiments
from experiments.models import Sweep
from phases import services
from phases.choices import Role
from tests.dashboard import test_browser
from tests.dashboard.conftest import advance, build_portfolio
from tests.dashboard.test_browser import Tab
from tests.dashboard.test_experiments_views import sweep
from tests.dashboard.test_models import registered
from tests.experiments.sweeps.conftest import run_all
from tests.factories import make_project
from tests.monitoring.conftest import monitored_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

browser = test_browser.browser

# Every chart of the page drawn (or said to need WebGL); then what each asked and got.
DRAWN = """() => {
    const charts = Array.from(document.querySelectorAll("[data-figure]"));
    return charts.length > 0 && charts.every(el => el.querySelector(".main-svg"));
}"""
TRACES = """() => Array.from(document.querySelectorAll("[data-figure]")).map(el => {
    const figure = JSON.parse(document.getElementById(el.dataset.figure).textContent);
    return {
        id: el.id,
        asked: figure.data.map(trace => trace.type || "scatter"),
        drawn: el._fullData.map(trace => trace.type),
        hidden: el._fullData.filter(trace => trace.visible === false).length,
    };
})"""
DRAWN_OR_NONE = """() => Array.from(document.querySelectorAll("[data-figure]"))
    .every(el => el.querySelector(".main-svg"))"""
REGISTERED = "() => Object.keys(Plotly.PlotSchema.get().traces)"


@pytest.fixture
def pages(manager, viewer, settings, tmp_path):
    """A portfolio, and a project in production with everything that draws a chart: runs
    with curves, a finished sweep, registered versions and monitors' results."""
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"
    build_portfolio(manager=manager, viewer=viewer)
    project = make_project(owner=manager, name="Churn model", success_metric="val_auc")
    services.membership_set(project=project, user=viewer, role=Role.VIEWER)
    for _ in range(3):
        advance(project, by=manager)
    monitored_for(project, days=4, drift_days=2, rows=300)
    runs = sweep(project, by=manager, n=4)
    version = registered(project, manager, versions=2)[-1]
    dataset = experiments.dataset_create(project=project, user=manager, name="iris", builtin="iris")
    made = experiments.sweep_create(
        project=project, user=manager, name="knn on iris", dataset=dataset,
        families=["knn"], strategy="random", max_trials=4, folds=2, seed=3,
    )  # fmt: skip
    run_all(made)
    close_old_connections()
    slug = project.slug
    compare = reverse("dashboard:run-compare", args=[slug])
    return {
        "portfolio": ("basic", reverse("dashboard:portfolio")),
        "project": ("finance", reverse("dashboard:project", args=[slug])),
        "run": ("basic", reverse("dashboard:run", args=[slug, runs[-1].run_id])),
        "compare": ("full", compare + "?runs=" + ",".join(run.run_id for run in runs)),
        "sweep": ("full", reverse("dashboard:sweep", args=[slug, Sweep.objects.get().pk])),
        "model version": (
            "basic",
            reverse(
                "dashboard:model-version",
                args=[slug, version.registered_model.name, version.version],
            ),
        ),
    }


def smallest_for(types: set[str]) -> str:
    """The bundle of the fewest bytes that holds every one of ``types``."""
    fitting = [
        name
        for name, bundle in plotly.BUNDLES.items()
        if all(bundle.draws(trace_type) for trace_type in types)
    ]
    return min(fitting, key=lambda name: plotly.BUNDLES[name].source.stat().st_size)


def test_each_chart_page_loads_the_smallest_bundle_that_draws_its_charts(
    browser, live_server, pages
):
    tab = Tab(browser, live_server.url, viewport={"width": 1440, "height": 900})
    seen: dict[str, set[str]] = {}
    loaded: list[str] = []
    tab.page.on("request", lambda request: loaded.append(request.url))
    try:
        tab.sign_in("morgan")
        for page_name, (name, path) in pages.items():
            bundle = plotly.BUNDLES[name]
            loaded.clear()
            tab.open(path)
            tab.page.wait_for_function(DRAWN)
            scripts = [url for url in loaded if "/static/vendor/" in url]
            assert len(scripts) == 1, f"{page_name}: one plotly.js, not {scripts}"
            assert f"/static/{bundle.prefix}/" in scripts[0], f"{page_name} loaded {scripts[0]}"
            charts = tab.page.evaluate(TRACES)
            assert charts, f"{page_name} has no chart"
            for chart in charts:
                assert chart["drawn"] == chart["asked"], f"{page_name}: {chart}"
                assert chart["hidden"] == 0, f"{page_name}: {chart}"
            types = {trace for chart in charts for trace in chart["asked"]}
            assert smallest_for(types) == name, f"{page_name} draws {types}"
            registered_types = set(tab.page.evaluate(REGISTERED))
            if bundle.traces is not None:
                assert registered_types == bundle.traces, name
            seen[page_name] = types
            tab.screenshot(f"bundle-{page_name.replace(' ', '-')}")
    finally:
        tab.close()
    # The pages between them ask for each kind of trace the figures build.
    assert {"scatter", "bar", "indicator", "parcoords"} <= set().union(*seen.values())
