"""The allowlist of estimator families a sweep may search, per task, with the hyperparameters
each may vary, their kinds and bounds, and the space a sweep gets when it names none.

A space maps a param to ``{"type": "int" | "float" | "log_float" | "categorical", "low",
"high", "choices"}``. The bounds here are what scikit-learn accepts and what a trial can fit
in reasonable time; a space outside them is refused at creation, naming the param.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from experiments.choices import Task
from phases.choices import MetricDirection

INT, FLOAT, LOG_FLOAT, CATEGORICAL = "int", "float", "log_float", "categorical"
NUMBER_TYPES = (FLOAT, LOG_FLOAT)
PARAM_TYPES = (INT, FLOAT, LOG_FLOAT, CATEGORICAL)


@dataclass(frozen=True)
class ParamRule:
    types: tuple[str, ...]
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Family:
    key: str
    label: str
    build: Callable[..., Any]
    params: dict[str, ParamRule]
    default_space: dict[str, dict]
    # Constructor arguments every trial passes (a seed, probabilities where a metric needs them).
    fixed: dict[str, Any] = field(default_factory=dict)
    seeded: bool = False

    @property
    def estimator(self) -> str:
        """The scikit-learn class's name (``RandomForestClassifier``)."""
        return self.build.__qualname__.rpartition(".")[2]


def _sk(path: str) -> Callable[..., Any]:
    """The estimator class, imported on first use: scikit-learn is heavy to import, and only
    workers and validation of a family's params need it."""

    def build(**params):
        module, _, name = path.rpartition(".")
        return getattr(__import__(module, fromlist=[name]), name)(**params)

    build.__qualname__ = path
    return build


_C = ParamRule(NUMBER_TYPES, 1e-6, 1e6)
_FOREST = {
    "n_estimators": ParamRule((INT,), 1, 2000),
    "max_depth": ParamRule((INT,), 1, 100),
    "min_samples_leaf": ParamRule((INT,), 1, 100),
    "max_features": ParamRule((CATEGORICAL,), choices=("sqrt", "log2", None)),
}
_FOREST_SPACE = {
    "n_estimators": {"type": INT, "low": 20, "high": 200},
    "max_depth": {"type": INT, "low": 2, "high": 16},
    "min_samples_leaf": {"type": INT, "low": 1, "high": 10},
}
_BOOSTING = {
    "learning_rate": ParamRule(NUMBER_TYPES, 1e-4, 1.0),
    "max_iter": ParamRule((INT,), 5, 2000),
    "max_leaf_nodes": ParamRule((INT,), 2, 256),
    "min_samples_leaf": ParamRule((INT,), 1, 200),
    "l2_regularization": ParamRule(NUMBER_TYPES, 1e-8, 100.0),
}
_BOOSTING_SPACE = {
    "learning_rate": {"type": LOG_FLOAT, "low": 0.01, "high": 0.5},
    "max_iter": {"type": INT, "low": 20, "high": 200},
    "max_leaf_nodes": {"type": INT, "low": 8, "high": 64},
}
_SVM = {
    "C": ParamRule(NUMBER_TYPES, 1e-4, 1e4),
    "kernel": ParamRule((CATEGORICAL,), choices=("rbf", "linear", "poly", "sigmoid")),
    "gamma": ParamRule((CATEGORICAL,), choices=("scale", "auto")),
}
_SVM_SPACE = {
    "C": {"type": LOG_FLOAT, "low": 0.01, "high": 100.0},
    "kernel": {"type": CATEGORICAL, "choices": ["rbf", "linear"]},
}
_KNN = {
    "n_neighbors": ParamRule((INT,), 1, 200),
    "weights": ParamRule((CATEGORICAL,), choices=("uniform", "distance")),
    "p": ParamRule((INT,), 1, 2),
}
_KNN_SPACE = {
    "n_neighbors": {"type": INT, "low": 1, "high": 30},
    "weights": {"type": CATEGORICAL, "choices": ["uniform", "distance"]},
}


def _both_tasks(key: str, label: str, estimator: str, params, space, **options):
    """A family scikit-learn has for both tasks, as ``<estimator>Classifier`` and
    ``<estimator>Regressor``: one key, label, params and default space for the two."""
    return {
        task: Family(key, label, _sk(f"{estimator}{suffix}"), params, space, **options)
        for task, suffix in ((Task.CLASSIFICATION, "Classifier"), (Task.REGRESSION, "Regressor"))
    }


_RANDOM_FOREST = _both_tasks(
    "random_forest",
    "Random forest",
    "sklearn.ensemble.RandomForest",
    _FOREST,
    _FOREST_SPACE,
    seeded=True,
)
_HIST_GRADIENT_BOOSTING = _both_tasks(
    "hist_gradient_boosting",
    "Gradient boosting (histogram)",
    "sklearn.ensemble.HistGradientBoosting",
    _BOOSTING,
    _BOOSTING_SPACE,
    seeded=True,
)
_K_NEAREST = _both_tasks(
    "knn", "k-nearest neighbours", "sklearn.neighbors.KNeighbors", _KNN, _KNN_SPACE
)

FAMILIES: dict[str, dict[str, Family]] = {
    Task.CLASSIFICATION: {
        "logistic": Family(
            "logistic",
            "Logistic regression",
            _sk("sklearn.linear_model.LogisticRegression"),
            {
                "C": _C,
                "max_iter": ParamRule((INT,), 50, 10000),
                "class_weight": ParamRule((CATEGORICAL,), choices=(None, "balanced")),
            },
            {"C": {"type": LOG_FLOAT, "low": 0.001, "high": 100.0}},
            fixed={"max_iter": 1000},
        ),
        "random_forest": _RANDOM_FOREST[Task.CLASSIFICATION],
        "hist_gradient_boosting": _HIST_GRADIENT_BOOSTING[Task.CLASSIFICATION],
        "svm": Family("svm", "SVM", _sk("sklearn.svm.SVC"), _SVM, _SVM_SPACE, seeded=True),
        "knn": _K_NEAREST[Task.CLASSIFICATION],
    },
    Task.REGRESSION: {
        "ridge": Family(
            "ridge",
            "Ridge regression",
            _sk("sklearn.linear_model.Ridge"),
            {
                "alpha": ParamRule(NUMBER_TYPES, 1e-8, 1e6),
                "fit_intercept": ParamRule((CATEGORICAL,), choices=(True, False)),
            },
            {"alpha": {"type": LOG_FLOAT, "low": 0.001, "high": 100.0}},
        ),
        "random_forest": _RANDOM_FOREST[Task.REGRESSION],
        "hist_gradient_boosting": _HIST_GRADIENT_BOOSTING[Task.REGRESSION],
        "svm": Family(
            "svm",
            "SVM",
            _sk("sklearn.svm.SVR"),
            dict(_SVM),
            _SVM_SPACE,
        ),
        "knn": _K_NEAREST[Task.REGRESSION],
    },
}


def family_of_estimator(name: str) -> tuple[str, Family] | None:
    """The task and family of a scikit-learn estimator class, by its name or dotted path: what
    MLflow's scikit-learn autologging tags a run with (``estimator_name``,
    ``estimator_class``). None for a class outside the allowlist, a pipeline among them."""
    wanted = name.rpartition(".")[2]
    for task, families in FAMILIES.items():
        for family in families.values():
            if family.estimator == wanted:
                return task, family
    return None


@dataclass(frozen=True)
class Metric:
    """A score a trial computes on each held-out fold: scikit-learn's scorer, and the sign
    that turns the scorer's value (always "greater is better") into the metric's own."""

    key: str
    scorer: str
    direction: str
    sign: float = 1.0
    needs_proba: bool = False


MAXIMIZE, MINIMIZE = MetricDirection.MAXIMIZE, MetricDirection.MINIMIZE

METRICS: dict[str, dict[str, Metric]] = {
    Task.CLASSIFICATION: {
        "accuracy": Metric("accuracy", "accuracy", MAXIMIZE),
        "balanced_accuracy": Metric("balanced_accuracy", "balanced_accuracy", MAXIMIZE),
        "f1": Metric("f1", "f1_macro", MAXIMIZE),
        "precision": Metric("precision", "precision_macro", MAXIMIZE),
        "recall": Metric("recall", "recall_macro", MAXIMIZE),
        "auc": Metric("auc", "roc_auc_ovr", MAXIMIZE, needs_proba=True),
        "log_loss": Metric("log_loss", "neg_log_loss", MINIMIZE, -1.0, needs_proba=True),
    },
    Task.REGRESSION: {
        "r2": Metric("r2", "r2", MAXIMIZE),
        "rmse": Metric("rmse", "neg_root_mean_squared_error", MINIMIZE, -1.0),
        "mae": Metric("mae", "neg_mean_absolute_error", MINIMIZE, -1.0),
        "mse": Metric("mse", "neg_mean_squared_error", MINIMIZE, -1.0),
    },
}
# Other spellings of the same metric; "val_" in front of any name is also accepted (the
# scores are cross-validated, so a project's "val_auc" is this "auc").
METRIC_ALIASES = {"roc_auc": "auc", "f1_macro": "f1", "neg_log_loss": "log_loss"}
DEFAULT_METRICS = {Task.CLASSIFICATION: ["accuracy"], Task.REGRESSION: ["rmse"]}


def metric(task: str, key: str) -> Metric | None:
    """The metric logged as ``key`` for ``task``, or None when it does not fit the task."""
    name = key.removeprefix("val_")
    name = METRIC_ALIASES.get(name, name)
    found = METRICS.get(task, {}).get(name)
    if found is None:
        return None
    return Metric(key, found.scorer, found.direction, found.sign, found.needs_proba)
