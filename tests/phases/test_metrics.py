"""What the success target means, in either direction; every surface asks ``phases.metrics``."""

import pytest

from phases.metrics import meets_target, shortfall


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
