"""What each kind of monitor concludes about one window: status, headline number, words,
and the numbers behind them. Reads through ``selectors``; writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from monitoring import drift, performance, quality, selectors
from monitoring.batches import column_values
from monitoring.choices import ColumnRole, DriftMethod, MonitorKind, ResultStatus
from monitoring.models import Deployment, Monitor
from phases.choices import Health


@dataclass
class Evaluation:
    status: str
    summary: str
    value: float | None = None
    threshold: float | None = None
    rows: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class ConfigError(ValueError):
    """A monitor's configuration cannot be used (the message names the key and the rule)."""


def _number(config: dict, key: str, default: float, *, low: float = 0, high: float | None = None):
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}: must be a number")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{key}: must be {bound}")
    return value


def _method(config: dict, key: str = "method") -> str:
    method = config.get(key, DriftMethod.AUTO)
    if method not in DriftMethod.values:
        raise ConfigError(f"{key}: must be one of {', '.join(DriftMethod.values)}")
    return method


def _options(config: dict) -> drift.FeatureOptions:
    threshold = config.get("threshold")
    if threshold is not None:
        threshold = _number(config, "threshold", 0)
    return drift.FeatureOptions(method=_method(config), threshold=threshold)


def validate_config(kind: str, config: Any) -> dict:
    """The config with its defaults filled in, or ConfigError naming what is wrong."""
    if not isinstance(config, dict):
        raise ConfigError("config: must be an object")
    config = dict(config)
    if kind in (MonitorKind.DATA_DRIFT, MonitorKind.PREDICTION_DRIFT):
        _options(config)
        config["min_rows"] = int(_number(config, "min_rows", drift.DEFAULT_MIN_ROWS, low=1))
    if kind == MonitorKind.DATA_DRIFT:
        config["drift_share"] = _number(
            config, "drift_share", settings.MONITORING_DRIFT_SHARE, high=1
        )
        features = config.get("features", {})
        if not isinstance(features, dict):
            raise ConfigError("features: must map feature names to {method, threshold}")
        for name, options in features.items():
            if not isinstance(options, dict):
                raise ConfigError(f"features.{name}: must be an object")
            _options(options)
    elif kind == MonitorKind.PERFORMANCE:
        config["min_rows"] = int(_number(config, "min_rows", drift.DEFAULT_MIN_ROWS, low=1))
        config["warning_margin"] = _number(config, "warning_margin", 0.0)
    elif kind == MonitorKind.DATA_QUALITY:
        for key, default in quality.DEFAULTS.items():
            config[key] = _number(config, key, default, high=1)
    elif kind == MonitorKind.FRESHNESS:
        config["max_age_hours"] = _number(config, "max_age_hours", 24, low=0.01)
    return config


# --- Evaluators -------------------------------------------------------------------------


def _window(deployment: Deployment, start: dt.datetime, end: dt.datetime):
    return selectors.window_rows(deployment=deployment, start=start, end=end)


def _no_rows() -> Evaluation:
    return Evaluation(ResultStatus.NOT_ENOUGH_DATA, "No production rows in this window.")


def _values(table, profiles: dict) -> dict:
    """The window's values of each reference column, read as the reference's kind."""
    return {name: column_values(table, name, p.kind) for name, p in profiles.items()}


def _features(deployment: Deployment, start: dt.datetime, end: dt.datetime):
    """Each feature's reference profile and its values in the window, with the window's
    rows and how many values had the wrong type; None when production sent no rows."""
    profiles = selectors.reference_profiles(deployment=deployment, role=ColumnRole.FEATURE)
    table, type_errors = _window(deployment, start, end)
    if table is None:
        return None
    return profiles, _values(table, profiles), table, type_errors


def _drift_options(config: dict) -> tuple[drift.FeatureOptions, dict[str, drift.FeatureOptions]]:
    per_feature = {name: _options(opts) for name, opts in config.get("features", {}).items()}
    return _options(config), per_feature


def data_drift(monitor, deployment, start, end, now, config) -> Evaluation:
    found = _features(deployment, start, end)
    if found is None:
        return _no_rows()
    profiles, current, table, _ = found
    default, per_feature = _drift_options(config)
    result = drift.dataset_drift(
        profiles,
        current,
        options=per_feature,
        default=default,
        min_rows=config["min_rows"],
        drift_share=config["drift_share"],
    )
    details = {
        "features": [f.as_dict() for f in result.features],
        "drift_share": config["drift_share"],
        "drifted": [f.name for f in result.drifted],
    }
    evaluated = len(result.evaluated)
    if not evaluated:
        return Evaluation(
            ResultStatus.NOT_ENOUGH_DATA,
            f"{table.num_rows} rows: fewer than {config['min_rows']} values for every feature.",
            rows=table.num_rows,
            details=details,
        )
    share = result.share or 0.0
    drifted = result.drifted
    names = ", ".join(f.name for f in drifted[:5]) + ("…" if len(drifted) > 5 else "")
    if result.dataset_drift:
        status = ResultStatus.ALERT
        summary = f"Dataset drift: {len(drifted)} of {evaluated} features drifted ({names})."
    elif drifted or any(f.status == "warning" for f in result.features):
        status = ResultStatus.WARNING
        summary = (
            f"{len(drifted)} of {evaluated} features drifted"
            + (f" ({names})" if drifted else "")
            + f", below the dataset share of {config['drift_share']:.0%}."
        )
    else:
        status = ResultStatus.OK
        summary = f"No drift in {evaluated} features."
    return Evaluation(status, summary, share, config["drift_share"], table.num_rows, details)


def prediction_drift(monitor, deployment, start, end, now, config) -> Evaluation:
    profiles = selectors.reference_profiles(deployment=deployment, role=ColumnRole.PREDICTION)
    if not profiles:
        return Evaluation(ResultStatus.ERROR, "The reference has no prediction column.")
    table, _ = _window(deployment, start, end)
    if table is None:
        return _no_rows()
    result = drift.dataset_drift(
        profiles,
        _values(table, profiles),
        default=_options(config),
        min_rows=config["min_rows"],
    )
    feature = result.features[0]
    details = {"features": [feature.as_dict()]}
    if feature.status == "not_enough_data":
        return Evaluation(
            ResultStatus.NOT_ENOUGH_DATA,
            f"{feature.n_current} predictions: fewer than {config['min_rows']}.",
            rows=table.num_rows,
            details=details,
        )
    label = DriftMethod(feature.method).label
    if feature.drifted:
        status, words = ResultStatus.ALERT, "The predictions drifted"
    elif feature.status == "warning":
        status, words = ResultStatus.WARNING, "The predictions moved"
    else:
        status, words = ResultStatus.OK, "No prediction drift"
    summary = f"{words}: {label} {feature.score:.4g} (threshold {feature.threshold:g})."
    return Evaluation(status, summary, feature.score, feature.threshold, table.num_rows, details)


def model_performance(monitor, deployment, start, end, now, config) -> Evaluation:
    project = monitor.project
    if not project.success_metric or project.success_target is None:
        return Evaluation(
            ResultStatus.ERROR, "Set the project's success metric and target to judge performance."
        )
    try:
        metric = performance.metric_for(project.success_metric)
    except performance.PerformanceError as error:
        return Evaluation(ResultStatus.ERROR, str(error).capitalize() + ".")
    labels, predictions = selectors.labelled_pairs(deployment=deployment, start=start, end=end)
    target = project.success_target
    if len(labels) < config["min_rows"]:
        return Evaluation(
            ResultStatus.NOT_ENOUGH_DATA,
            f"{len(labels)} labelled rows: fewer than {config['min_rows']}.",
            threshold=target,
            rows=len(labels),
        )
    try:
        value = performance.compute(
            metric, labels, predictions, positive_label=config.get("positive_label")
        )
    except performance.PerformanceError as error:
        return Evaluation(ResultStatus.ERROR, str(error).capitalize() + ".", rows=len(labels))
    maximize = project.maximizes
    shortfall = (target - value) if maximize else (value - target)
    if shortfall <= 0:
        status, words = ResultStatus.OK, "meets"
    elif shortfall <= config["warning_margin"]:
        status, words = ResultStatus.WARNING, "is just short of"
    else:
        status, words = ResultStatus.ALERT, "is short of"
    summary = (
        f"{project.success_metric} {value:.4g} on {len(labels)} labelled rows {words} the "
        f"target {target:g}."
    )
    details = {"metric": metric, "key": project.success_metric, "shortfall": max(shortfall, 0)}
    return Evaluation(status, summary, value, target, len(labels), details)


def data_quality(monitor, deployment, start, end, now, config) -> Evaluation:
    found = _features(deployment, start, end)
    if found is None:
        return _no_rows()
    profiles, current, table, type_errors = found
    limits = {key: config[key] for key in quality.DEFAULTS}
    columns = quality.dataset_quality(profiles, current, type_errors=type_errors, limits=limits)
    failing = [c for c in columns if c.violations]
    details = {"columns": [c.as_dict() for c in columns]}
    if failing:
        first = failing[0]
        summary = (
            f"{len(failing)} of {len(columns)} columns break their limits; "
            f"{first.name}: {first.violations[0]}."
        )
        status = ResultStatus.ALERT
    else:
        summary, status = f"All {len(columns)} columns within their limits.", ResultStatus.OK
    return Evaluation(status, summary, float(len(failing)), 0.0, table.num_rows, details)


def freshness(monitor, deployment, start, end, now, config) -> Evaluation:
    latest = selectors.latest_batch_time(deployment=deployment)
    max_age = dt.timedelta(hours=config["max_age_hours"])
    since = latest or max(
        deployment.started_at, deployment.reference_set_at or deployment.started_at
    )
    age = max(now - since, dt.timedelta(0))
    hours = age.total_seconds() / 3600
    details = {"latest_batch_at": latest.isoformat() if latest else None, "age_hours": hours}
    what = "the last batch" if latest else "the reference was set, and no batch since"
    summary = f"{hours:.1f} hours since {what} (at most {config['max_age_hours']:g} allowed)."
    status = ResultStatus.ALERT if age > max_age else ResultStatus.OK
    return Evaluation(status, summary, hours, config["max_age_hours"], 0, details)


HEALTH_STATUS = {
    Health.GREEN: ResultStatus.OK,
    Health.AMBER: ResultStatus.WARNING,
    Health.RED: ResultStatus.ALERT,
}


def project_health(monitor, deployment, start, end, now, config) -> Evaluation:
    project = selectors.project_health(project_id=monitor.project_id)
    reasons = list(project.health_reasons)
    health = Health(project.health)
    summary = f"Health is {health.label.lower()}" + (f": {' '.join(reasons)}" if reasons else ".")
    return Evaluation(
        HEALTH_STATUS[health], summary, details={"health": project.health, "reasons": reasons}
    )


EVALUATORS = {
    MonitorKind.DATA_DRIFT: data_drift,
    MonitorKind.PREDICTION_DRIFT: prediction_drift,
    MonitorKind.PERFORMANCE: model_performance,
    MonitorKind.DATA_QUALITY: data_quality,
    MonitorKind.FRESHNESS: freshness,
    MonitorKind.HEALTH: project_health,
}
NEEDS_DEPLOYMENT = frozenset(EVALUATORS) - {MonitorKind.HEALTH}


def evaluate(
    monitor: Monitor, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> Evaluation:
    try:
        config = validate_config(monitor.kind, monitor.config)
    except ConfigError as error:
        return Evaluation(ResultStatus.ERROR, f"The monitor's config is invalid: {error}.")
    deployment = monitor.deployment
    if monitor.kind in NEEDS_DEPLOYMENT:
        if deployment is None:
            return Evaluation(ResultStatus.NOT_ENOUGH_DATA, "Nothing is deployed yet.")
        if not deployment.reference_rows:
            # Batches are checked against the reference: without one none can be sent, so
            # none is late either (freshness counts from when the reference was set).
            return Evaluation(
                ResultStatus.NOT_ENOUGH_DATA,
                "The deployment has no reference data yet, so no production batch can be sent.",
            )
    try:
        return EVALUATORS[monitor.kind](monitor, deployment, start, end, now, config)
    except (drift.DriftError, ConfigError) as error:
        return Evaluation(ResultStatus.ERROR, f"The monitor could not run: {error}.")
