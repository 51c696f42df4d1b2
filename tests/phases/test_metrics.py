"""What the success target means, in either direction; every surface asks ``phases.metrics``."""

import pytest

from phases.choices import MetricDirection
from phases.metrics import better_low_by_name, meets_target, shortfall
from phases.models import Project


@pytest.mark.parametrize(
    ("best", "target", "maximize", "met"),
    [
        (0.9, 0.85, True, True),
        (0.8, 0.85, True, False),
        (0.2, 0.3, False, True),
        (0.4, 0.3, False, False),
        (0.85, 0.85, True, True),
        (0.3, 0.3, False, True),
    ],
)
def test_meets_target_respects_the_direction(best, target, maximize, met):
    assert meets_target(best, target, maximize=maximize) is met


@pytest.mark.parametrize(
    ("value", "target", "maximize", "short"),
    [(0.8, 0.85, True, 0.05), (0.4, 0.3, False, 0.1), (0.9, 0.85, True, -0.05)],
)
def test_shortfall_is_positive_exactly_when_the_target_is_missed(value, target, maximize, short):
    assert shortfall(value, target, maximize=maximize) == pytest.approx(short)
    assert (shortfall(value, target, maximize=maximize) > 0) is not meets_target(
        value, target, maximize=maximize
    )


@pytest.mark.parametrize(
    ("key", "low"),
    [
        ("val_loss", True),
        ("rmse", True),
        ("fit_time", True),
        ("fit_seconds", True),
        ("p95_latency_ms", True),
        ("peak_memory_bytes", True),
        ("val_auc", False),
        ("accuracy", False),
        ("recall_at_1pct", False),
    ],
)
def test_a_metrics_name_tells_which_way_it_is_better(key, low):
    assert better_low_by_name(key) is low


def test_the_success_metric_goes_the_way_the_project_says_whatever_its_name():
    project = Project(success_metric="val_loss_ratio", success_direction=MetricDirection.MAXIMIZE)
    assert project.maximizes_metric("val_loss_ratio")
    assert not project.maximizes_metric("val_loss")
    assert project.maximizes_metric("val_auc")
