"""Sweeps in a real browser, at a desktop (1440x900) and a phone (390x844) size: a
contributor starts a sweep from the form and watches its progress bar move while trials
run; a manager makes the best trial the evidence of the Experimentation outcome. The
progress bar polls JSON from a static script, under the strict Content-Security-Policy.
Screenshots go to ``tests/screenshots/``.
"""

import pytest
from django.db import close_old_connections
from django.urls import reverse

from experiments import services as experiments
from experiments.models import RunEvidence, Sweep
from experiments.sweeps import ledger
from phases import services
from phases.choices import EvidenceRule
from tests.dashboard import test_browser
from tests.dashboard.test_browser import Tab
from tests.experiments.sweeps.conftest import run_all

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

browser = test_browser.browser
SIZES = [("desktop", {"width": 1440, "height": 900}), ("phone", {"width": 390, "height": 844})]


@pytest.fixture
def datasets(settings, tmp_path, project, manager):
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"
    return experiments.dataset_create(project=project, user=manager, name="iris", builtin="iris")


def no_sideways_scroll(tab: Tab) -> None:
    overflow = tab.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_a_contributor_starts_a_sweep_and_follows_its_progress(
    browser, live_server, project, contributor, datasets, size, viewport
):
    tab = Tab(browser, live_server.url, viewport=viewport)
    try:
        tab.sign_in("chris")
        page = tab.page
        tab.open(reverse("dashboard:project", args=[project.slug]))
        section = page.locator("#sweeps")
        assert "No sweeps yet" in section.text_content()
        section.get_by_role("link", name="Start a sweep").click()
        page.wait_for_load_state()

        page.get_by_label("Name", exact=True).fill("knn on iris")
        page.get_by_label("k-nearest neighbours").check()
        page.get_by_label("Search strategy").select_option("random")
        page.get_by_label("Trials", exact=True).fill("4")
        page.get_by_label("Cross-validation folds").fill("2")
        tab.screenshot(f"sweep-form-{size}")
        page.get_by_role("button", name="Start the sweep").click()
        page.wait_for_load_state()

        sweep = Sweep.objects.get(project=project)
        assert page.url.endswith(reverse("dashboard:sweep", args=[project.slug, sweep.pk]))
        assert "its trials are queued" in page.locator(".messages").text_content()
        bar = page.locator("#sweep-bar")
        assert bar.get_attribute("value") == "0" and bar.get_attribute("max") == "4"
        assert page.get_by_role("button", name="Cancel").is_visible()

        # The workers' part, while the page polls: a trial runs, the sweep with it (the
        # page reloads once for the new status), and the table follows without a reload.
        ledger.run_trial(sweep.trials.get(number=0).pk, owner=ledger.new_owner("test"))
        close_old_connections()
        trials = page.locator("table.trials tbody")
        succeeded = trials.locator(".tag-trial-succeeded")
        succeeded.first.wait_for(timeout=20_000)
        assert page.locator("#sweep-progress").get_attribute("data-status") == "running"
        assert trials.locator(".tag-trial-queued").count() == 3
        assert page.get_by_role("button", name="Cancel").is_visible()
        page.evaluate("window.sameDocument = true")
        ledger.run_trial(sweep.trials.get(number=1).pk, owner=ledger.new_owner("test"))
        close_old_connections()
        page.wait_for_function(
            "() => document.querySelectorAll('table.trials .tag-trial-succeeded').length === 2",
            timeout=20_000,
        )
        assert page.evaluate("window.sameDocument") is True, "the table, not the page, is redrawn"
        assert page.locator(".sweep-notice").is_visible()
        run_all(sweep)
        close_old_connections()
        # Finished: the page reloads itself, with neither Cancel nor Resume.
        page.wait_for_function(
            "() => !window.sameDocument && document.readyState === 'complete'"
            " && document.querySelector('#sweep-progress').dataset.status === 'finished'",
            timeout=20_000,
        )
        assert page.locator("[data-field=succeeded]").text_content() == "4"
        assert bar.get_attribute("value") == "4"
        assert page.get_by_role("button", name="Cancel").count() == 0
        assert page.get_by_role("button", name="Resume").count() == 0
        assert succeeded.count() == 4
        # The sweep's styles hold at every width (they once sat inside a phone-only block),
        # and on a phone each trial is a block of labelled lines, not a row to scroll.
        display = "(selector) => getComputedStyle(document.querySelector(selector)).display"
        assert page.evaluate(display, ".progress-line") == "flex"
        row = page.evaluate(display, "table.trials tbody tr")
        assert row == ("block" if size == "phone" else "table-row")
        # Each trial's params are there, a labelled line each on a phone.
        line = page.evaluate(display, "table.trials .trial-params div")
        assert line == ("block" if size == "phone" else "flex")
        assert "n_neighbors" in page.locator("table.trials tbody tr").first.inner_text()
        assert tab.drawn_traces("chart-best") == 2
        assert tab.drawn_traces("chart-importances") == 1
        no_sideways_scroll(tab)
        tab.screenshot(f"sweep-finished-{size}")
        # A contributor does not set evidence.
        assert page.get_by_role("button", name="Use best trial as evidence").count() == 0
    finally:
        tab.close()


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_a_manager_uses_the_best_trial_as_evidence(
    browser, live_server, project, manager, contributor, datasets, size, viewport
):
    outcome = project.current_phase.outcomes.first()
    services.outcome_update(
        outcome=outcome, by=manager, evidence_rule=EvidenceRule.BEST_RUN_MEETS_TARGET
    )
    sweep = experiments.sweep_create(
        project=project, user=contributor, name="knn on iris", dataset=datasets,
        families=["knn"], strategy="random", max_trials=4, folds=2, seed=3,
    )  # fmt: skip
    run_all(sweep)
    close_old_connections()
    sweep.refresh_from_db()
    tab = Tab(browser, live_server.url, viewport=viewport)
    try:
        tab.sign_in("morgan")
        page = tab.page
        tab.open(reverse("dashboard:project", args=[project.slug]))
        section = page.locator("#sweeps")
        assert "Finished" in section.text_content()
        section.get_by_role("link", name="knn on iris").click()
        page.wait_for_load_state()
        page.get_by_role("button", name="Use best trial as evidence").click()
        page.wait_for_load_state()
        assert "is now evidence of" in page.locator(".messages").text_content()
        linked = RunEvidence.objects.get(outcome=outcome)
        assert linked.run_id == sweep.best_trial.run_id
        no_sideways_scroll(tab)
        tab.screenshot(f"sweep-evidence-{size}")
    finally:
        tab.close()


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_a_project_without_a_dataset_adds_one_on_the_way_to_its_sweep(
    browser, live_server, project, contributor, settings, tmp_path, size, viewport
):
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"
    tab = Tab(browser, live_server.url, viewport=viewport)
    try:
        tab.sign_in("chris")
        page = tab.page
        tab.open(reverse("dashboard:project", args=[project.slug]))
        page.locator("#sweeps").get_by_role("link", name="Start a sweep").click()
        page.wait_for_load_state()
        assert "no dataset yet" in page.get_by_test_id("no-dataset").text_content()
        assert page.get_by_label("CSV file", exact=True).is_visible()
        no_sideways_scroll(tab)
        tab.screenshot(f"sweep-no-dataset-{size}")

        page.get_by_label("Wine cultivars").check()
        page.get_by_role("button", name="Add this dataset").click()
        page.wait_for_load_state()

        assert "Dataset “wine” added: 178 rows" in page.locator(".messages").text_content()
        chosen = page.get_by_label("Dataset", exact=True)
        assert "wine — 178 rows" in chosen.locator("option:checked").text_content()
        assert page.get_by_role("button", name="Start the sweep").is_visible()
        no_sideways_scroll(tab)
        tab.screenshot(f"sweep-dataset-added-{size}")
    finally:
        tab.close()
