"""The sweep pages through HTTP: who may see and steer them, the form's refusals on the
field they name, the progress JSON, the retraining prefill from production, and the
project page's sweeps section within its query budget."""

import json
import re

import pytest
from django.urls import reverse

from dashboard.selectors.sweeps import param_text
from experiments import services as experiments
from experiments.models import Sweep
from tests.api.test_permissions import deploy_run
from tests.dashboard.conftest import client_for
from tests.dashboard.test_views import figure
from tests.experiments.sweeps.conftest import run_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def iris(settings, tmp_path, project, manager):
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"
    return experiments.dataset_create(project=project, user=manager, name="iris", builtin="iris")


def knn(project, user, dataset, **changes) -> Sweep:
    fields = dict(
        name="knn on iris", dataset=dataset, families=["knn"], strategy="random",
        max_trials=4, folds=2, seed=5,
    )  # fmt: skip
    fields.update(changes)
    return experiments.sweep_create(project=project, user=user, **fields)


def url(project, name: str, *args) -> str:
    return reverse(f"dashboard:{name}", args=[project.slug, *args])


def form_data(dataset, **changes) -> dict:
    data = {
        "name": "from the form",
        "dataset": dataset.pk,
        "families": ["knn"],
        "strategy": "random",
        "pruner": "none",
        "max_trials": 3,
        "folds": 2,
        "seed": 0,
        "space": "",
    }
    data.update(changes)
    return data


def test_members_see_sweeps_and_outsiders_get_404(project, viewer, outsider, contributor, iris):
    sweep = knn(project, contributor, iris)
    run_all(sweep)

    page = client_for(viewer).get(url(project, "project")).content.decode()
    assert "knn on iris" in page and 'href="/projects/' in page
    assert "Start a sweep" not in page  # a viewer does not start sweeps
    shown = client_for(viewer).get(url(project, "sweep", sweep.pk))
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "Use best trial as evidence" not in html and ">Cancel<" not in html
    assert "Sweep of k-nearest neighbours on" in html  # the family's label, not its key
    assert " s left" not in html, "a finished sweep has no time left to estimate"
    assert len(figure(shown, "chart-best")["data"]) == 2
    assert "script-src" in shown["Content-Security-Policy"]
    for name, args in (("sweep", [sweep.pk]), ("sweep-progress", [sweep.pk]), ("sweep-new", [])):
        assert client_for(outsider).get(url(project, name, *args)).status_code == 404


def test_the_progress_json_is_the_selector_s(project, viewer, contributor, iris):
    sweep = knn(project, contributor, iris)
    response = client_for(viewer).get(url(project, "sweep-progress", sweep.pk))
    body = response.json()
    assert (body["status"], body["total"], body["done"], body["queued"]) == ("queued", 4, 0, 4)
    assert "no-cache" in response["Cache-Control"]


def test_a_cancelled_sweep_reads_as_the_trials_that_ran_not_as_complete(
    project, viewer, contributor, iris
):
    from experiments.sweeps import ledger

    sweep = knn(project, contributor, iris)
    ledger.run_trial(sweep.trials.get(number=0).pk, owner="w")
    experiments.sweep_cancel(sweep=sweep, user=contributor)

    section = " ".join(client_for(viewer).get(url(project, "project")).content.decode().split())
    assert 'value="1" aria-label="1 of 4 trials done"' in section
    assert "1 of 4, 3 cancelled" in section
    page = " ".join(
        re.sub(
            r"<[^>]+>", "", client_for(viewer).get(url(project, "sweep", sweep.pk)).content.decode()
        ).split()
    )
    assert "1 of 4 trials done" in page and "3 cancelled" in page
    assert " s left" not in page


def test_the_trials_table_the_page_polls_is_current_and_never_cached(
    project, viewer, outsider, contributor, iris
):
    from experiments.sweeps import ledger

    sweep = knn(project, contributor, iris)
    page = client_for(viewer).get(url(project, "sweep", sweep.pk)).content.decode()
    part = f"{url(project, 'sweep', sweep.pk)}?part=trials"
    assert f'data-trials-url="{part}"' in page
    ledger.run_trial(sweep.trials.get(number=0).pk, owner="w")

    response = client_for(viewer).get(part)
    assert "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="trials"') and "<html" not in html
    rows = _row_texts(html)
    assert rows[0].startswith("1 trial 0 Succeeded")
    assert all("Queued" in rows[n] for n in (1, 2, 3))
    assert client_for(outsider).get(part).status_code == 404


def test_the_form_starts_a_sweep_and_a_refusal_names_the_field(project, contributor, iris):
    client = client_for(contributor)
    bad = client.post(url(project, "sweep-new"), form_data(iris, families=["svm"], space=json.dumps(
        {"svm": {"C": {"type": "log_float", "low": 0, "high": 1}}}
    )))  # fmt: skip
    assert bad.status_code == 200
    assert "space.svm.C" in bad.content.decode()
    assert not Sweep.objects.exists()

    good = client.post(url(project, "sweep-new"), form_data(iris))
    sweep = Sweep.objects.get()
    assert good.status_code == 302 and good["Location"] == url(project, "sweep", sweep.pk)
    assert sweep.trials.count() == 3 and sweep.created_by == contributor


def test_viewers_cannot_start_or_steer_and_managers_alone_set_evidence(
    project, viewer, contributor, manager, iris
):
    sweep = knn(project, contributor, iris)
    viewer_client = client_for(viewer)
    assert viewer_client.get(url(project, "sweep-new")).status_code == 403
    assert viewer_client.post(url(project, "sweep-act", sweep.pk, "cancel")).status_code == 403
    assert (
        client_for(contributor).post(url(project, "sweep-act", sweep.pk, "nap")).status_code == 404
    )
    cancel = client_for(contributor).post(url(project, "sweep-act", sweep.pk, "cancel"))
    assert cancel.status_code == 302
    assert Sweep.objects.get().status in ("cancelling", "cancelled")
    resume = client_for(contributor).post(url(project, "sweep-act", sweep.pk, "resume"))
    assert resume.status_code == 302
    run_all(sweep)
    evidence = url(project, "sweep-evidence", sweep.pk)
    assert client_for(contributor).post(evidence).status_code == 403
    assert client_for(manager).post(evidence).status_code == 302


def test_retraining_is_prefilled_from_the_deployed_run(
    project, contributor, viewer, manager, iris, settings
):
    from experiments.models import Dataset
    from tests.monitoring.conftest import iris_in_production

    settings.MONITORING_EXPORT_MIN_ROWS = 100
    sweep = knn(project, contributor, iris)
    run_all(sweep)
    sweep.refresh_from_db()
    deployment = deploy_run(project, sweep.best_trial.run, by=manager)
    retrain = url(project, "sweep-retrain", deployment.pk)
    link = f"{url(project, 'sweep-new')}?retrain={deployment.pk}"

    page = client_for(contributor).get(url(project, "project")).content.decode()
    assert f'action="{retrain}"' in page
    seen = client_for(viewer).get(url(project, "project")).content.decode()
    assert f'action="{retrain}"' not in seen
    assert client_for(viewer).post(retrain).status_code == 403

    # Too few labelled rows: the message says why, and the form starts from the run's dataset.
    iris_in_production(deployment, labelled=20, unlabelled=10)
    refused = client_for(contributor).post(retrain, follow=True)
    assert refused.redirect_chain == [(link, 302)]
    text = refused.content.decode()
    assert "Production&#x27;s rows were not exported" in text and "20 labelled" in text
    assert refused.context["form"].initial["dataset"] == iris.pk

    iris_in_production(deployment, labelled=120, prefix="q")
    form = client_for(contributor).post(retrain, follow=True)
    exported = form.context["plan"].export
    assert exported is not None and exported.rows == 140
    context = form.context["form"]
    assert context.initial["families"] == ["knn"] and context.initial["dataset"] == exported.pk
    assert "n_neighbors" in context.initial["space"]
    text = form.content.decode()
    assert "Start a retraining sweep" in text and "140 labelled production rows" in text
    assert "its family (k-nearest neighbours) and a space around its params" in text
    assert re.search(r'<input type="checkbox" name="families" value="knn"[^>]* checked>', text)
    client_for(contributor).post(retrain)  # still current: exported once
    assert Dataset.objects.filter(source="production").count() == 1

    started = client_for(contributor).post(
        link, {**form_data(exported, name="retrained"), "retrain": deployment.pk}, follow=True
    )
    assert Sweep.objects.get(name="retrained").dataset == exported
    assert "The dataset is production's: 140 labelled production rows" in (started.content.decode())


def _row_texts(html: str) -> dict[int, str]:
    """Each trial row of the trials table as its text, by trial number."""
    body = html.split('class="data trials', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        number = int(re.search(r"trial (\d+)</th>", row).group(1))
        rows[number] = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    return rows


def test_every_trial_shows_its_own_family_s_params(project, viewer, contributor, iris):
    """A sweep of two families: each trial's row names each of its params with its value,
    whichever family it is, rather than a few columns that only one family fills."""
    sweep = knn(
        project, contributor, iris, name="forest and knn", families=["random_forest", "knn"],
        max_trials=8, seed=2, space={
            "random_forest": {
                "n_estimators": {"type": "int", "low": 5, "high": 15},
                "max_depth": {"type": "int", "low": 2, "high": 6},
                "min_samples_leaf": {"type": "int", "low": 1, "high": 5},
            },
            "knn": {
                "n_neighbors": {"type": "int", "low": 1, "high": 15},
                "weights": {"type": "categorical", "choices": ["uniform", "distance"]},
            },
        },
    )  # fmt: skip
    run_all(sweep)
    trials = list(sweep.trials.order_by("number"))
    assert {t.params["family"] for t in trials} == {"random_forest", "knn"}

    shown = client_for(viewer).get(url(project, "sweep", sweep.pk))
    rows = _row_texts(shown.content.decode())

    assert set(rows) == {t.number for t in trials}
    for trial in trials:
        label = "Random forest" if trial.params["family"] == "random_forest" else "k-nearest"
        assert label in rows[trial.number]
        for key, value in trial.params.items():
            if key != "family":
                assert f"{key} {param_text(value)}" in rows[trial.number], (key, trial.number)

    # The importances are of the best trial's family alone, and the chart says which.
    best = Sweep.objects.get(pk=sweep.pk).best_trial
    family = "Random forest" if best.params["family"] == "random_forest" else "k-nearest neighbours"
    plotted = set(figure(shown, "chart-importances")["data"][0]["y"])
    assert plotted <= set(sweep.space[best.params["family"]])
    text = " ".join(re.sub(r"<[^>]+>", " ", shown.content.decode()).split())
    assert f"Which params mattered: {family}" in text
    assert f"Within the {family} trials alone (the best trial's family)" in text
    assert f'data-summary="Which params mattered: {family}"' in shown.content.decode()


def test_a_retraining_form_says_what_it_could_not_copy_from_a_run_no_sweep_made(
    project, contributor, manager, iris
):
    """A deployed run logged by a script of its own (a family no sweep searches): the form
    has no family or space to copy, and says so instead of promising them; its counts of
    rows read as the export's summary beside them does, with thousands separators."""
    from experiments import services as tracking
    from tests.dashboard.test_experiments_views import log_run
    from tests.monitoring.conftest import iris_in_production

    experiment = tracking.experiment_create(project=project, name="forecasting", by=manager)
    run = log_run(
        experiment, by=manager, name="tft-weather",
        params={"model": "temporal_fusion_transformer", "hidden": "64"},
    )  # fmt: skip
    deployment = deploy_run(project, run, by=manager)
    iris_in_production(deployment, labelled=1200, unlabelled=100)

    form = client_for(contributor).post(url(project, "sweep-retrain", deployment.pk), follow=True)

    text = " ".join(form.content.decode().split())
    assert form.context["plan"].export is not None
    assert "families" not in form.context["form"].initial
    assert "its family and a space around its params" not in text
    assert "names no estimator family a sweep searches" in text
    assert "model</code> temporal_fusion_transformer" in text
    assert "Production has seen 1,300 rows" in text and "1,200 of them labelled" in text
    assert "1,200 labelled production rows" in text
    boxes = re.findall(r'<input type="checkbox" name="families"[^>]*>', text)
    assert boxes and not [box for box in boxes if "checked" in box]


def test_a_project_without_a_dataset_adds_one_where_its_sweep_starts(
    project, contributor, settings, tmp_path
):
    """ "Start a sweep" on a project without a dataset: the page offers the built-in
    datasets and an upload, and either lands on the sweep's form with the new dataset."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from experiments.models import Dataset
    from experiments.sweeps import BUILTIN_DATASETS

    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"
    client = client_for(contributor)
    empty = client.get(url(project, "sweep-new")).content.decode()
    for key in BUILTIN_DATASETS:
        assert re.search(rf'<input type="radio" name="builtin" value="{key}"', empty)
    assert 'enctype="multipart/form-data"' in empty and 'type="file"' in empty

    added = client.post(
        url(project, "sweep-new"), {"add": "builtin", "builtin": "wine"}, follow=True
    )
    assert added.redirect_chain == [(url(project, "sweep-new"), 302)]
    wine = Dataset.objects.get(project=project)
    assert (wine.name, wine.builtin, wine.rows) == ("wine", "wine", 178)
    assert added.context["form"].fields["dataset"].queryset.get() == wine
    assert "Start the sweep" in added.content.decode()

    no_target = b"size,price\n" + b"".join(f"{i},{i * 3}\n".encode() for i in range(20))
    refused = client.post(url(project, "sweep-new"), {
        "add": "upload", "upload-name": "prices", "upload-target": "cost",
        "upload-file": SimpleUploadedFile("prices.csv", no_target, content_type="text/csv"),
    })  # fmt: skip
    assert refused.status_code == 200
    assert "the file has no column “cost”" in refused.content.decode()
    uploaded = client.post(url(project, "sweep-new"), {
        "add": "upload", "upload-name": "prices", "upload-target": "price",
        "upload-file": SimpleUploadedFile("prices.csv", no_target, content_type="text/csv"),
    })  # fmt: skip
    assert uploaded.status_code == 302
    prices = Dataset.objects.get(project=project, name="prices")
    assert (prices.source, prices.target, prices.rows) == ("upload", "price", 20)
