"""Production metrics computed by hand (``monitoring.performance``), checked against
scikit-learn's definitions on random labels and scores."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from monitoring import performance
from monitoring.performance import PerformanceError

# Scores on a coarse grid, so that ties (one threshold for several rows) are common.
rows = st.lists(
    st.tuples(st.booleans(), st.integers(0, 20).map(lambda n: n / 20)), min_size=2, max_size=60
)


@settings(max_examples=300, deadline=None)
@given(rows)
def test_pr_auc_is_scikit_learns_average_precision(pairs):
    labels = [int(label) for label, _ in pairs]
    scores = [score for _, score in pairs]
    if len(set(labels)) < 2:
        with pytest.raises(PerformanceError, match="both classes"):
            performance.compute("pr_auc", labels, scores)
        return
    expected = average_precision_score(labels, scores)
    assert performance.compute("pr_auc", labels, scores) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(rows)
def test_auc_is_scikit_learns_roc_auc(pairs):
    labels = [int(label) for label, _ in pairs]
    if len(set(labels)) < 2:
        return
    scores = [score for _, score in pairs]
    assert performance.compute("auc", labels, scores) == pytest.approx(
        roc_auc_score(labels, scores), abs=1e-12
    )


@pytest.mark.parametrize("key", ["val_pr_auc", "average_precision", "test_auprc", "aucpr"])
def test_the_names_people_give_pr_auc(key):
    assert performance.metric_for(key) == "pr_auc"
    assert performance.higher_is_better("pr_auc")


def test_pr_auc_of_a_perfect_and_a_useless_ranking():
    labels = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    assert performance.compute("pr_auc", labels.tolist(), [0.9, 0.8, *[0.1] * 6]) == 1.0
    assert performance.compute("pr_auc", labels.tolist(), [0.5] * 8) == pytest.approx(0.25)
