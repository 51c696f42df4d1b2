"""Model performance on labelled production rows, with the metric the project succeeds on.

A project names its success metric as its runs log it (``val_f1``, ``test_auc``,
``rmse``...). ``metric_for`` reads that key: a split prefix (``val_``, ``validation_``,
``test_``, ``eval_``, ``holdout_``) and a ``_score`` suffix are dropped, and what is left
must be one of ``METRICS``. Pure numpy and scipy.

Classification metrics take class predictions; a numeric prediction between 0 and 1 on a
binary problem is a probability, thresholded at 0.5 for them and used as the score for
``auc`` and ``log_loss``. The positive class is ``1`` (or ``true``), else the label the
monitor's ``positive_label`` names; more than two classes average precision, recall and
F1 over classes (macro).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

ALIASES = {
    "acc": "accuracy",
    "f1_macro": "f1",
    "roc_auc": "auc",
    "auroc": "auc",
    "average_precision": "pr_auc",
    "auprc": "pr_auc",
    "aucpr": "pr_auc",
    "logloss": "log_loss",
    "cross_entropy": "log_loss",
    "mean_absolute_error": "mae",
    "mean_squared_error": "mse",
    "root_mean_squared_error": "rmse",
    "r_squared": "r2",
    "mean_absolute_percentage_error": "mape",
}
# name -> (higher is better, needs a score rather than a class)
METRICS = {
    "accuracy": (True, False),
    "precision": (True, False),
    "recall": (True, False),
    "f1": (True, False),
    "auc": (True, True),
    "pr_auc": (True, True),  # average precision, as scikit-learn's average_precision_score
    "log_loss": (False, True),
    "mae": (False, False),
    "mse": (False, False),
    "rmse": (False, False),
    "r2": (True, False),
    "mape": (False, False),
}
REGRESSION = frozenset({"mae", "mse", "rmse", "r2", "mape"})
PREFIXES = ("validation_", "holdout_", "val_", "test_", "eval_", "valid_")


class PerformanceError(ValueError):
    """The metric cannot be computed from these rows (a message for people)."""


def metric_for(key: str) -> str:
    name = key.strip().lower().replace("-", "_").replace(" ", "_")
    for prefix in PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    name = name.removesuffix("_score")
    name = ALIASES.get(name, name)
    if name not in METRICS:
        known = ", ".join(sorted(METRICS))
        raise PerformanceError(
            f"the success metric {key!r} is not one production monitoring computes ({known})"
        )
    return name


def _positive(labels: Sequence[Any], positive_label: Any) -> Any:
    if positive_label is not None:
        return positive_label
    distinct = set(labels)
    for candidate in (1, True, "1", "true", "True", "yes"):
        if candidate in distinct:
            return candidate
    return max(distinct, key=str)


def _as_float(values: Sequence[Any], what: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise PerformanceError(f"{what} must be numbers for this metric") from None


def compute(
    metric: str,
    labels: Sequence[Any],
    predictions: Sequence[Any],
    *,
    positive_label: Any = None,
) -> float:
    """The value of ``metric`` (a name from ``METRICS``) over paired rows."""
    if len(labels) != len(predictions):
        raise PerformanceError("labels and predictions must pair up")
    if not len(labels):
        raise PerformanceError("no labelled rows")
    if metric in REGRESSION:
        y, p = _as_float(labels, "labels"), _as_float(predictions, "predictions")
        error = p - y
        if metric == "mae":
            return float(np.mean(np.abs(error)))
        if metric == "mse":
            return float(np.mean(error**2))
        if metric == "rmse":
            return float(math.sqrt(np.mean(error**2)))
        if metric == "mape":
            nonzero = y != 0
            if not nonzero.any():
                raise PerformanceError("MAPE is undefined when every label is 0")
            return float(np.mean(np.abs(error[nonzero] / y[nonzero])))
        spread = float(np.sum((y - y.mean()) ** 2))
        if spread == 0:
            raise PerformanceError("R² is undefined when every label is the same")
        return float(1 - np.sum(error**2) / spread)

    positive = _positive(labels, positive_label)
    truth = np.array([label == positive for label in labels])
    binary = len(set(labels)) <= 2
    numeric = all(
        isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 1 for p in predictions
    )
    if METRICS[metric][1]:
        if not (binary and numeric):
            raise PerformanceError(f"{metric} needs probabilities between 0 and 1 (binary)")
        score = np.asarray(predictions, dtype=np.float64)
        if metric == "auc":
            positives = int(truth.sum())
            negatives = truth.size - positives
            if not positives or not negatives:
                raise PerformanceError("AUC needs both classes among the labels")
            ranks = stats.rankdata(score)
            return float(
                (ranks[truth].sum() - positives * (positives + 1) / 2) / (positives * negatives)
            )
        if metric == "pr_auc":
            return _average_precision(truth, score)
        clipped = np.clip(score, 1e-15, 1 - 1e-15)
        return float(-np.mean(np.where(truth, np.log(clipped), np.log(1 - clipped))))

    if (
        binary
        and numeric
        and any(isinstance(p, float) and p not in (0.0, 1.0) for p in predictions)
    ):
        classes = [positive if p >= 0.5 else None for p in predictions]
    else:
        classes = list(predictions)
    agree = np.array([str(c) == str(label) for c, label in zip(classes, labels, strict=True)])
    if metric == "accuracy":
        return float(agree.mean())
    if binary:
        said = np.array([str(c) == str(positive) for c in classes])
        return _precision_recall_f1(metric, truth, said)
    values = []
    for label in sorted({str(x) for x in labels}):
        actual = np.array([str(x) == label for x in labels])
        said = np.array([str(c) == label for c in classes])
        values.append(_precision_recall_f1(metric, actual, said))
    return float(np.mean(values))


def _average_precision(truth: np.ndarray, score: np.ndarray) -> float:
    """The area under the precision-recall curve as a step sum: the precision at each
    distinct score, weighted by the recall it adds (tied scores are one threshold)."""
    positives = int(truth.sum())
    if not positives or positives == truth.size:
        # Which label is positive is guessed from the labels: one class alone says nothing.
        raise PerformanceError("PR AUC needs both classes among the labels")
    order = np.argsort(-score, kind="mergesort")
    ranked, hits = score[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
    caught = np.cumsum(hits)[last]
    precision = caught / (last + 1)
    recall = caught / positives
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def _precision_recall_f1(metric: str, actual: np.ndarray, said: np.ndarray) -> float:
    hits = float(np.count_nonzero(actual & said))
    precision = hits / said.sum() if said.any() else 0.0
    recall = hits / actual.sum() if actual.any() else 0.0
    if metric == "precision":
        return precision
    if metric == "recall":
        return recall
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def higher_is_better(metric: str) -> bool:
    return METRICS[metric][0]
