"""Sweeps through their services: validation that creates nothing, trials run by the ledger
as runs of the sweep's experiment, control (cancel, resume, retry) and the evidence."""

import itertools
import json

import pytest
from django.db.models import RestrictedError

from experiments import selectors, services
from experiments.choices import RunStatus, SweepStatus, TrialStatus
from experiments.models import Dataset, Experiment, Param, Run, RunEvidence, Sweep, Trial
from experiments.sweeps import ledger, recovery, sampling
from mlprojects.exceptions import DomainError
from tests.experiments.sweeps.conftest import run_all, spec


def refused(call, field: str, words: str = "") -> DomainError:
    before = (Sweep.objects.count(), Trial.objects.count(), Experiment.objects.count())
    with pytest.raises(DomainError) as caught:
        call()
    assert field in caught.value.fields, caught.value.fields
    assert words in " ".join(caught.value.fields[field]), caught.value.fields
    assert (Sweep.objects.count(), Trial.objects.count(), Experiment.objects.count()) == before
    return caught.value


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"families": ["xgboost"]}, "families", "not a classification family"),
        ({"families": ["ridge"]}, "families", "not a classification family"),
        ({"families": []}, "families", "at least one"),
        ({"space": {}}, "space", "must not be empty"),
        ({"space": {"knn": {}}}, "space.knn", "must not be empty"),
        ({"space": {"knn": {"depth": {"type": "int", "low": 1, "high": 3}}}}, "space.knn.depth",
         "no such hyperparameter"),
        ({"space": {"knn": {"n_neighbors": {"type": "int", "low": 5, "high": 2}}}},
         "space.knn.n_neighbors", "low must be below high"),
        ({"space": {"knn": {"weights": {"type": "categorical", "choices": ["far"]}}}},
         "space.knn.weights.choices", "not allowed"),
        ({"metrics": ["rmse"]}, "metrics", "not a classification metric"),
        ({"strategy": "annealing"}, "strategy", "must be one of"),
        ({"folds": 1}, "folds", "between 2 and 20"),
        ({"max_trials": None}, "max_trials", "trial count"),
        ({"name": " "}, "name", "blank"),
        ({"dataset": 999999}, "dataset", "no dataset"),
        ({"colour": "red"}, "colour", "not a field"),
    ],
)  # fmt: skip
def test_a_bad_spec_is_refused_naming_the_field_and_nothing_is_created(
    project, user, iris, overrides, field, words
):
    refused(lambda: services.sweep_create(project=project, user=user, **spec(iris, **overrides)),
            field, words)  # fmt: skip


def test_a_sweep_is_created_with_its_experiment_and_queued_trials(project, user, iris):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, metrics=None))
    assert sweep.status == SweepStatus.QUEUED
    assert sweep.experiment.name == "sweep: knn on iris"
    assert sweep.metrics == ["val_accuracy", "accuracy"]  # the project's success metric first
    assert sweep.direction == "maximize"
    assert list(sweep.trials.values_list("number", "status")) == [
        (n, TrialStatus.QUEUED) for n in range(4)
    ]
    refused(lambda: services.sweep_create(project=project, user=user, **spec(iris)), "name")


def test_trials_run_as_runs_of_the_sweep_and_the_sweep_names_its_best(project, user, iris):
    sweep = services.sweep_create(
        project=project, user=user, **spec(iris, metrics=["accuracy", "f1"])
    )
    run_all(sweep)
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.FINISHED and sweep.finished_at
    trials = list(sweep.trials.select_related("run"))
    assert {t.status for t in trials} == {TrialStatus.SUCCEEDED}
    best = max(trials, key=lambda t: (t.value, -t.number))
    assert sweep.best_trial == best
    run = best.run
    assert run.experiment == sweep.experiment and run.status == RunStatus.FINISHED
    params = dict(Param.objects.filter(run=run).values_list("key", "value"))
    assert params == {"family": "knn", "n_neighbors": str(best.params["n_neighbors"])}
    series = {s.key: s for s in run.metric_series.all()}
    assert set(series) == {
        "accuracy",
        "accuracy_fold",
        "f1",
        "f1_fold",
        "fit_time",
        "fit_time_fold",
        "score_time",
        "score_time_fold",
    }
    assert series["accuracy"].latest_value == pytest.approx(best.value)
    assert series["accuracy_fold"].point_count == 2
    tags = dict(run.tags.values_list("key", "value"))
    assert tags["estimator.n_neighbors"] == str(best.params["n_neighbors"])
    assert tags["sweep.trial"] == str(best.number)
    assert Run.objects.filter(experiment=sweep.experiment).count() == 4
    progress = selectors.sweep_progress(sweep)
    assert progress | {"elapsed_seconds": 0} == {
        "status": "finished", "total": 4, "done": 4, "queued": 0, "running": 0,
        "succeeded": 4, "pruned": 0, "failed": 0, "cancelled": 0, "best_value": best.value,
        "best_trial": best.number, "elapsed_seconds": 0, "remaining_seconds": 0.0,
    }  # fmt: skip
    ranked = selectors.sweep_trials(sweep)
    assert [t.value for t in ranked] == sorted((t.value for t in trials), reverse=True)
    curve = selectors.sweep_best_so_far(sweep)
    assert len(curve) == 4 and curve[-1][1] == best.value
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(curve))


def test_a_trial_delivered_again_after_it_finished_does_nothing(project, user, iris):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=1))
    trial = sweep.trials.get()
    assert ledger.run_trial(trial.pk, owner="a") is None
    first = Trial.objects.get(pk=trial.pk)
    assert ledger.run_trial(trial.pk, owner="b") is None
    assert Trial.objects.get(pk=trial.pk).run_id == first.run_id
    assert Run.objects.filter(experiment=sweep.experiment).count() == 1


def test_a_live_lease_sends_a_second_delivery_back_and_an_expired_one_is_taken_over(
    project, user, iris, settings
):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=1))
    trial = sweep.trials.get()
    claimed = ledger.claim(trial.pk, owner="first")
    assert isinstance(claimed, ledger.Claimed)
    later = ledger.claim(trial.pk, owner="second")
    assert isinstance(later, ledger.Later) and later.seconds > 1
    Trial.objects.filter(pk=trial.pk).update(lease_expires_at="2000-01-01T00:00Z")
    assert ledger.run_trial(trial.pk, owner="second") is None
    trial.refresh_from_db()
    assert (trial.status, trial.attempts) == (TrialStatus.SUCCEEDED, 2)
    # The first owner comes back: its lease is gone, so it writes nothing.
    assert not ledger.finish(trial.pk, owner="first", outcome=None)
    assert Run.objects.filter(experiment=sweep.experiment).count() == 1


def test_a_trial_whose_workers_keep_dying_fails_after_the_cap(project, user, iris, settings):
    settings.EXPERIMENTS_TRIAL_MAX_ATTEMPTS = 2
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=1))
    trial = sweep.trials.get()
    for owner in ("a", "b"):
        assert isinstance(ledger.claim(trial.pk, owner=owner), ledger.Claimed)
        Trial.objects.filter(pk=trial.pk).update(lease_expires_at="2000-01-01T00:00Z")
    assert ledger.claim(trial.pk, owner="c") is None
    trial.refresh_from_db()
    assert trial.status == TrialStatus.FAILED and "gave up after 2 attempts" in trial.error
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.FAILED


def test_a_failing_trial_is_recorded_and_the_others_go_on_and_retry_uses_its_params(
    project, user, iris
):
    space = {"knn": {"n_neighbors": {"type": "int", "low": 100, "high": 200}}}  # > fold rows
    sweep = services.sweep_create(
        project=project, user=user, **spec(iris, space=space, max_trials=2)
    )
    first = sweep.trials.get(number=0)
    run_all(sweep)
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.FAILED
    failed = Trial.objects.get(pk=first.pk)
    assert failed.status == TrialStatus.FAILED and "n_neighbors" in failed.error
    assert failed.run is None
    services.sweep_retry_failed(sweep=sweep, user=user)
    again = Trial.objects.get(pk=first.pk)
    assert (again.status, again.params, again.error) == (TrialStatus.QUEUED, failed.params, "")


def test_cancel_stops_queued_trials_and_resume_runs_them(project, user, iris):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=3))
    ledger.run_trial(sweep.trials.get(number=0).pk, owner="w")
    sweep = services.sweep_cancel(sweep=sweep, user=user)
    assert sweep.status == SweepStatus.CANCELLED
    statuses = dict(sweep.trials.values_list("number", "status"))
    assert statuses == {0: "succeeded", 1: "cancelled", 2: "cancelled"}
    # One trial ran: the cancelled ones are not done, and no time is left to estimate.
    progress = selectors.sweep_progress(sweep)
    assert (progress["done"], progress["total"], progress["cancelled"]) == (1, 3, 2)
    assert progress["remaining_seconds"] is None
    # A message of a cancelled trial that arrives after the cancel starts nothing.
    assert ledger.run_trial(sweep.trials.get(number=1).pk, owner="late") is None
    assert sweep.trials.get(number=1).started_at is None
    with pytest.raises(DomainError):
        services.sweep_cancel(sweep=sweep, user=user)
    sweep = services.sweep_resume(sweep=sweep, user=user)
    assert sweep.status == SweepStatus.RUNNING
    run_all(sweep)
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.FINISHED


def test_a_running_trial_stops_at_its_next_fold_after_a_cancel(project, user, iris):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=1, folds=3))
    trial = sweep.trials.get()
    claimed = ledger.claim(trial.pk, owner="w")
    services.sweep_cancel(sweep=sweep, user=user)
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.CANCELLING
    reason = ledger.checkpoint(claimed.trial, claimed.sweep, owner="w", intermediate=[0.9])
    assert reason == "cancelled"
    assert ledger.stop(trial.pk, owner="w", status=TrialStatus.CANCELLED)
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.CANCELLED


def test_a_trial_past_its_time_limit_stops_at_its_next_fold_when_no_signal_stopped_it(
    project, user, settings, monkeypatch
):
    # In this process no soft-limit signal ever comes: as when a library under the fit
    # catches Celery's exception with the errors it catches. The ledger's own check stops it.
    settings.EXPERIMENTS_TRIAL_TIME_LIMIT = 1
    monkeypatch.setattr(ledger, "LIMIT_GRACE_SECONDS", 0)
    digits = services.dataset_create(project=project, user=user, name="digits", builtin="digits")
    forest = {"random_forest": {"n_estimators": {"type": "int", "low": 500, "high": 520}}}
    sweep = services.sweep_create(
        project=project, user=user,
        **spec(digits, families=["random_forest"], space=forest, max_trials=1, folds=3),
    )  # fmt: skip
    trial = sweep.trials.get()
    assert ledger.run_trial(trial.pk, owner="w") is None
    trial.refresh_from_db()
    assert (trial.status, trial.error) == (TrialStatus.FAILED, "over the time limit of 1 s")
    assert len(trial.intermediate) <= 1, "it stopped at the end of the fold past the limit"
    assert trial.run_id is None and not Run.objects.filter(experiment=sweep.experiment).exists()
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.FAILED


def test_a_grid_runs_each_point_once(project, user, iris):
    weights = {"type": "categorical", "choices": ["uniform", "distance"]}
    space = {"knn": {"n_neighbors": {"type": "int", "low": 1, "high": 3}, "weights": weights}}
    sweep = services.sweep_create(
        project=project, user=user, **spec(iris, strategy="grid", space=space, max_trials=50)
    )
    assert sweep.max_trials == 6
    run_all(sweep)
    points = [(t.params["n_neighbors"], t.params["weights"]) for t in sweep.trials.all()]
    assert sorted(points) == sorted((k, w) for k in (1, 2, 3) for w in ("uniform", "distance"))


def test_tpe_with_pruning_and_several_families(project, user, iris):
    sweep = services.sweep_create(
        project=project, user=user,
        **spec(iris, families=["knn", "logistic"], space=None, strategy="tpe", pruner="median",
               max_trials=8, folds=3),
    )  # fmt: skip
    run_all(sweep)
    trials = list(sweep.trials.all())
    assert {t.status for t in trials} <= {TrialStatus.SUCCEEDED, TrialStatus.PRUNED}
    assert {t.params["family"] for t in trials} <= {"knn", "logistic"}
    pruned = [t for t in trials if t.status == TrialStatus.PRUNED]
    for trial in pruned:
        assert trial.run.status == RunStatus.KILLED
        assert not trial.run.metric_series.filter(key="accuracy").exists()  # never ranked
    assert isinstance(selectors.sweep_importances(sweep).values, dict)


def test_a_settled_sweep_keeps_its_importances_and_its_page_reads_them(
    project, user, iris, monkeypatch
):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=4))
    first = sweep.trials.order_by("number").first()
    ledger.run_trial(first.pk, owner=ledger.new_owner("test"))
    services.sweep_importances_keep(trial_id=first.pk)
    assert Sweep.objects.get(pk=sweep.pk).importances == {}, "nothing while it runs"

    run_all(sweep)
    last = sweep.trials.order_by("number").last()
    services.sweep_importances_keep(trial_id=last.pk)
    sweep.refresh_from_db()
    computed = sampling.importances(sweep, list(sweep.trials.filter(status="succeeded")))
    assert sweep.importances == {
        "succeeded": 4, "family": "knn", "values": computed.values
    }  # fmt: skip
    assert computed.values, "two or more succeeded trials have importances"

    def recomputed(*args):
        raise AssertionError("the page computed the importances again")

    monkeypatch.setattr(sampling, "importances", recomputed)
    assert selectors.sweep_importances(sweep) == computed
    # Once another trial succeeds (a retry, say), what was kept is no longer current.
    Sweep.objects.filter(pk=sweep.pk).update(importances={**sweep.importances, "succeeded": 3})
    sweep.refresh_from_db()
    with pytest.raises(AssertionError, match="computed the importances again"):
        selectors.sweep_importances(sweep)


def test_the_best_trial_becomes_the_evidence_of_the_experimentation_outcome(project, user, iris):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=2))
    with pytest.raises(DomainError):
        services.sweep_best_as_evidence(sweep=sweep, user=user)
    run_all(sweep)
    sweep.refresh_from_db()
    outcome = services.sweep_best_as_evidence(sweep=sweep, user=user)
    assert outcome.kind == "model" and outcome.phase.name == "Experimentation"
    link = RunEvidence.objects.get(outcome=outcome)
    assert link.run == sweep.best_trial.run and "Best trial" in link.note


def test_the_spec_of_a_run_prefills_a_sweep_around_its_params(project, user, iris):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=1))
    run_all(sweep)
    trial = sweep.trials.get()
    prefill = selectors.sweep_spec_from_run(trial.run)
    assert prefill["dataset"] == iris.pk and prefill["families"] == ["knn"]
    n = trial.params["n_neighbors"]
    bounds = prefill["space"]["knn"]["n_neighbors"]
    assert bounds["low"] <= n <= bounds["high"]
    services.sweep_create(project=project, user=user, **prefill)


@pytest.mark.parametrize(
    ("tags", "task", "family"),
    [
        ([("estimator_class", "sklearn.ensemble._forest.RandomForestClassifier"),
          ("estimator_name", "RandomForestClassifier")], "classification", "random_forest"),
        ([("estimator_name", "RandomForestRegressor")], "regression", "random_forest"),
        ([("estimator_name", "Ridge")], "regression", "ridge"),
        ([("estimator_name", "Pipeline")], None, None),
        ([], None, None),
    ],
)  # fmt: skip
def test_a_run_mlflow_autologged_prefills_its_estimators_family(project, user, tags, task, family):
    experiment = services.experiment_create(project=project, name="notebook", by=user)
    run = services.run_create(experiment=experiment, by=user, name="rf", tags=tags)
    services.log_batch(
        run=run, by=user, params=[("n_estimators", "100"), ("max_depth", "None"), ("alpha", "1")]
    )
    prefill = selectors.sweep_spec_from_run(run)
    assert prefill.get("task") == task
    assert prefill.get("families") == ([family] if family else None)
    if family == "random_forest":
        # Autologging logs every param as text: a number is searched around, "None" is kept
        # as the family's own dimension.
        assert prefill["space"]["random_forest"]["n_estimators"] == {
            "type": "int", "low": 33, "high": 300
        }  # fmt: skip
        assert prefill["space"]["random_forest"]["max_depth"]["low"] == 2


def test_sweeps_of_project_counts_trials_in_one_query(
    project, user, iris, django_assert_num_queries
):
    for name in ("a", "b", "c"):
        services.sweep_create(project=project, user=user, **spec(iris, name=name, max_trials=2))
    with django_assert_num_queries(1):
        rows = list(selectors.sweeps_of_project(project))
        assert [(s.name, s.trial_count, s.queued_count) for s in rows] == [
            ("c", 2, 2), ("b", 2, 2), ("a", 2, 2)
        ]  # fmt: skip
    with django_assert_num_queries(2):
        selectors.sweep_progress(rows[0])


# --- Datasets ---------------------------------------------------------------------------

CSV = b"size,colour,price\n" + b"".join(
    f"{i},{'red' if i % 2 else 'blue'},{i * 3 + (i % 5)}\n".encode() for i in range(40)
)


@pytest.mark.parametrize(
    ("data", "target", "field", "words"),
    [
        (b"", "price", "file", "empty"),
        (b"size,price\n", "price", "file", "no rows"),
        (CSV, "cost", "target", "no column “cost”"),
        (CSV, None, "target", "name the target"),
        (b"a,b\n1,2,3,4\n5,6\n", "b", "file", "well-formed"),
        (b"\xff\xfe\x00junk", "b", "file", "UTF-8"),
        (b"a,a\n" + b"1,2\n" * 20, "a", "file", "unique"),
        (b"x,price\n" + b"1,\n" * 20, "price", "target", "empty in 20 row"),
    ],
)
def test_a_bad_upload_is_refused_saying_what_is_wrong(project, user, data, target, field, words):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(DomainError) as caught:
        services.dataset_create(
            project=project, user=user, name="up",
            file=SimpleUploadedFile("d.csv", data), target=target,
        )  # fmt: skip
    assert words in " ".join(caught.value.fields[field])
    assert not Dataset.objects.exists()


def test_an_upload_over_the_limit_is_refused(project, user, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.EXPERIMENTS_MAX_DATASET_BYTES = 100
    with pytest.raises(DomainError) as caught:
        services.dataset_create(project=project, user=user, name="up",
                                file=SimpleUploadedFile("d.csv", CSV), target="price")  # fmt: skip
    assert "over the limit of 100 bytes" in caught.value.fields["file"][0]


def test_an_uploaded_csv_with_a_categorical_column_is_swept(project, user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    dataset = services.dataset_create(
        project=project, user=user, name="prices",
        file=SimpleUploadedFile("d.csv", CSV), target="price",
    )  # fmt: skip
    assert dataset.columns == {"size": "numeric", "colour": "categorical"}
    assert (dataset.rows, dataset.task) == (40, "regression")
    sweep = services.sweep_create(
        project=project, user=user,
        **spec(dataset, families=["ridge"], space=None, metrics=["rmse", "r2"], max_trials=2),
    )  # fmt: skip
    assert sweep.direction == "minimize"
    run_all(sweep)
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.FINISHED
    assert sweep.best_trial.value == min(t.value for t in sweep.trials.all())


# --- Dispatch, recovery and queues ----------------------------------------------------


def test_trials_go_to_the_experiments_queue_and_recovery_to_the_scheduled_one():
    from mlprojects.celery import Queue, app

    assert app.amqp.router.route({}, ledger.TRIAL_TASK)["queue"].name == Queue.EXPERIMENTS
    assert app.amqp.router.route({}, recovery.RECOVER_TASK)["queue"].name == Queue.SCHEDULED


def test_two_sweeps_each_keep_only_their_window_in_the_queue(
    project, user, iris, settings, django_capture_on_commit_callbacks
):
    settings.EXPERIMENTS_SWEEP_WINDOW = 2
    with django_capture_on_commit_callbacks() as sent:
        first = services.sweep_create(
            project=project, user=user, **spec(iris, name="a", max_trials=6)
        )
        second = services.sweep_create(
            project=project, user=user, **spec(iris, name="b", max_trials=6)
        )
    assert len(sent) == 2  # one send of two trials per sweep
    for sweep in (first, second):
        enqueued = sweep.trials.filter(enqueued_at__isnull=False)
        assert list(enqueued.values_list("number", flat=True)) == [0, 1]
    # A trial that ends makes room for the next one of its own sweep.
    ledger.run_trial(first.trials.get(number=0).pk, owner="w")
    assert list(
        first.trials.filter(enqueued_at__isnull=False).values_list("number", flat=True)
    ) == [0, 1, 2]


def test_the_project_cap_holds_a_claim_back_until_a_trial_ends(project, user, iris):
    services.trial_quota_set(project=project, max_concurrent=1)
    first = services.sweep_create(project=project, user=user, **spec(iris, name="a"))
    second = services.sweep_create(project=project, user=user, **spec(iris, name="b"))
    assert isinstance(ledger.claim(first.trials.get(number=0).pk, owner="w1"), ledger.Claimed)
    held = ledger.claim(second.trials.get(number=0).pk, owner="w2")
    assert isinstance(held, ledger.Later)
    with pytest.raises(DomainError):
        services.trial_quota_set(project=project, max_concurrent=0)


def test_recovery_sends_again_the_trials_of_dead_workers_and_of_stalled_sweeps(
    project, user, iris, settings, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=3))
    claimed = ledger.claim(sweep.trials.get(number=0).pk, owner="dead")
    assert recovery.recover() == []  # its lease is live, and the sweep is busy
    later = timezone.now() + dt.timedelta(seconds=settings.EXPERIMENTS_STALL_SECONDS + 120)
    with django_capture_on_commit_callbacks():
        again = recovery.recover(now=later)
    queued = list(sweep.trials.filter(number__gt=0).values_list("pk", flat=True))
    assert sorted(again) == sorted([claimed.trial.pk, *queued])


# --- Settings, reads and the ledger's small steps ---------------------------------------


def test_the_visibility_timeout_is_above_the_longest_trial_and_only_given_to_redis(tmp_path):
    from tests.test_settings import manage

    show = (
        "import json; from django.conf import settings; print(json.dumps(["
        "settings.CELERY_BROKER_VISIBILITY_TIMEOUT, settings.EXPERIMENTS_TRIAL_TIME_LIMIT,"
        "getattr(settings, 'CELERY_BROKER_TRANSPORT_OPTIONS', None)]))"
    )
    redis = manage("shell", "--no-imports", "-c", show, var_dir=tmp_path,
                   CELERY_BROKER_URL="redis://127.0.0.1:6379/9")  # fmt: skip
    timeout, limit, options = json.loads(redis.stdout.strip().splitlines()[-1])
    assert timeout > limit and options["visibility_timeout"] == timeout
    assert (options["unacked_restore_interval"], options["unacked_restore_throttle"]) == (60, 1)
    embedded = manage("shell", "--no-imports", "-c", show, var_dir=tmp_path)
    assert json.loads(embedded.stdout.strip().splitlines()[-1])[2] is None
    refused = manage("check", var_dir=tmp_path, EXPERIMENTS_TRIAL_TIME_LIMIT="7200",
                     CELERY_BROKER_VISIBILITY_TIMEOUT="3600")  # fmt: skip
    assert refused.returncode != 0
    assert "must exceed EXPERIMENTS_TRIAL_TIME_LIMIT" in refused.stderr


def test_the_leaderboard_and_the_curve_read_in_one_query_each(
    project, user, iris, django_assert_num_queries
):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=3))
    run_all(sweep)
    with django_assert_num_queries(1):
        ranked = selectors.sweep_trials(sweep)
        assert all(t.run.run_id for t in ranked)
    with django_assert_num_queries(1):
        selectors.sweep_best_so_far(sweep)


def test_a_transient_error_gives_the_trial_back_for_the_retry(project, user, iris):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=1))
    trial = sweep.trials.get()
    assert isinstance(ledger.claim(trial.pk, owner="w"), ledger.Claimed)
    ledger.release(trial.pk, owner="w")
    trial.refresh_from_db()
    assert (trial.status, trial.attempts, trial.lease_owner) == (TrialStatus.QUEUED, 0, "")
    assert ledger.run_trial(trial.pk, owner="retry") is None
    assert Trial.objects.get(pk=trial.pk).attempts == 1


def test_successive_halving_prunes_on_the_folds(project, user, iris):
    sweep = services.sweep_create(
        project=project, user=user,
        **spec(iris, pruner="successive_halving", max_trials=6, folds=4, strategy="tpe"),
    )  # fmt: skip
    run_all(sweep)
    trials = list(sweep.trials.all())
    assert {t.status for t in trials} <= {TrialStatus.SUCCEEDED, TrialStatus.PRUNED}
    assert any(t.sampler_attrs for t in trials), "the rungs are kept on the rows"
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.FINISHED


def test_a_wall_time_budget_cancels_what_has_not_started(project, user, iris):
    import datetime as dt

    from django.utils import timezone

    sweep = services.sweep_create(
        project=project, user=user, **spec(iris, max_trials=3, max_seconds=5)
    )
    ledger.run_trial(sweep.trials.get(number=0).pk, owner="w")
    Sweep.objects.filter(pk=sweep.pk).update(started_at=timezone.now() - dt.timedelta(seconds=10))
    assert ledger.run_trial(sweep.trials.get(number=1).pk, owner="w") is None
    statuses = dict(sweep.trials.values_list("number", "status"))
    assert statuses == {0: "succeeded", 1: "cancelled", 2: "cancelled"}
    assert "wall-time budget of 5 s" in sweep.trials.get(number=2).error
    assert Sweep.objects.get(pk=sweep.pk).status == SweepStatus.FINISHED


def test_deleting_the_project_deletes_its_sweeps_trials_and_datasets(project, user, iris):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=3))
    run_all(sweep)
    assert Trial.objects.filter(sweep=sweep).exists()
    project.delete()
    assert not Sweep.objects.exists()
    assert not Trial.objects.exists()
    assert not Dataset.objects.exists()


def test_a_sweeps_dataset_and_experiment_cannot_be_deleted_from_under_it(project, user, iris):
    sweep = services.sweep_create(project=project, user=user, **spec(iris, max_trials=1))
    for row in (iris, sweep.experiment):
        with pytest.raises(RestrictedError):
            row.delete()
    assert Sweep.objects.filter(pk=sweep.pk).exists()


def test_the_best_trial_kept_as_trials_finish_is_the_one_a_fresh_ranking_names(project, user, iris):
    """The finish names the best from the trial that ended and the best so far; on a tie
    the lower number wins, as ``ledger.best_trial_id`` ranks them from scratch."""
    from experiments.sweeps.execution import Outcome

    sweep = services.sweep_create(
        project=project, user=user, **spec(iris, max_trials=4, metrics=["accuracy"])
    )
    trials = list(sweep.trials.order_by("number"))
    values = {3: 0.90, 1: 0.90, 2: 0.95, 0: 0.80}  # finished in this order
    named = []
    for number, value in values.items():
        trial = trials[number]
        assert isinstance(ledger.claim(trial.pk, owner="w"), ledger.Claimed)
        outcome = Outcome(scores={"accuracy": [value] * sweep.folds}, fit_times=[0.1])
        assert ledger.finish(trial.pk, owner="w", outcome=outcome)
        current = Sweep.objects.get(pk=sweep.pk)
        assert current.best_trial_id == ledger.best_trial_id(current)
        named.append(Trial.objects.get(pk=current.best_trial_id).number)
    assert named == [3, 1, 2, 2]


def test_a_trial_whose_score_is_not_finite_is_never_the_best(project, user, iris):
    """A score that came out NaN (or infinite) is no best, whether the finish compares it
    with the best so far or the sweep's trials are ranked from scratch."""
    from experiments.sweeps.execution import Outcome

    sweep = services.sweep_create(
        project=project, user=user, **spec(iris, max_trials=3, metrics=["accuracy"])
    )
    trials = list(sweep.trials.order_by("number"))
    for trial, value in zip(trials, [0.7, float("nan"), float("inf")], strict=True):
        assert isinstance(ledger.claim(trial.pk, owner="w"), ledger.Claimed)
        outcome = Outcome(scores={"accuracy": [value] * sweep.folds}, fit_times=[0.1])
        assert ledger.finish(trial.pk, owner="w", outcome=outcome)
        current = Sweep.objects.get(pk=sweep.pk)
        assert current.best_trial_id == trials[0].pk
        assert ledger.best_trial_id(current) == trials[0].pk
    nan = Trial.objects.get(pk=trials[1].pk)
    assert nan.status == TrialStatus.SUCCEEDED and nan.run is not None
    assert nan.intermediate == [None] * sweep.folds  # JSON has no NaN


def test_the_best_so_far_is_monotone_in_the_trial_number_whatever_order_trials_finish(
    project, user, iris
):
    """Parallel workers finish trials out of their numbers' order; the curve is drawn
    against the trial number, so each point is the best of the trials numbered up to it
    (Optuna's optimization history), never the best of those that happened to end first."""
    from experiments.sweeps.execution import Outcome

    sweep = services.sweep_create(
        project=project, user=user, **spec(iris, max_trials=5, metrics=["accuracy"])
    )
    trials = list(sweep.trials.order_by("number"))
    values = {3: 0.90, 1: 0.70, 4: 0.50, 2: 0.95, 0: 0.60}  # finished in this order
    for number, value in values.items():
        assert isinstance(ledger.claim(trials[number].pk, owner="w"), ledger.Claimed)
        outcome = Outcome(scores={"accuracy": [value] * sweep.folds}, fit_times=[0.1])
        assert ledger.finish(trials[number].pk, owner="w", outcome=outcome)
    curve = selectors.sweep_best_so_far(sweep)
    assert curve == [(0, 0.60), (1, 0.70), (2, 0.95), (3, 0.95), (4, 0.95)]
