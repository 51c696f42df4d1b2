"""What the sweep tests share: a project with a contributor, its datasets, and running a
trial the way a worker does (the ledger called directly; the worker tests use real ones)."""

import pytest

from experiments import services
from experiments.models import Trial
from experiments.sweeps import ledger
from tests.factories import UserFactory, make_project

FAST = {"knn": {"n_neighbors": {"type": "int", "low": 1, "high": 15}}}


@pytest.fixture
def project(db, settings, tmp_path):
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path / "datasets"
    return make_project(success_metric="val_accuracy", success_target=0.9)


@pytest.fixture
def user(project):
    return project.owner


@pytest.fixture
def iris(project, user):
    return services.dataset_create(project=project, user=user, name="iris", builtin="iris")


def spec(of, **overrides) -> dict:
    fields = {
        "name": "knn on iris",
        "dataset": of,
        "families": ["knn"],
        "space": FAST,
        "strategy": "random",
        "max_trials": 4,
        "folds": 2,
        "seed": 7,
    }
    fields.update(overrides)
    return fields


def run_all(sweep, *, limit: int = 200) -> None:
    """Run the sweep's trials to the end as workers would, one after another."""
    for _ in range(limit):
        queued = Trial.objects.filter(sweep=sweep, status="queued").order_by("number").first()
        if queued is None:
            return
        ledger.run_trial(queued.pk, owner=ledger.new_owner("test"))
    raise AssertionError("the sweep did not finish")


@pytest.fixture
def other_user(db):
    return UserFactory()
