"""What a project's success metric and target mean, as plain rules about numbers.

The project sets its success metric, target and direction (``choices.MetricDirection``) in
its first phase, and every surface judges runs against them: the gate's evidence
(``experiments.evidence``), the leaderboard and the success gauge (``dashboard``). They all
ask here, so "meets the target" is decided one way. No Django in this module: the figure
builders, which are pure, use it too.
"""

import re

# Which way a metric other than the success metric is better is stated nowhere, so its name
# says it: losses, errors, times and sizes are better low; scores, rates and the rest high.
_BETTER_LOW = re.compile(
    r"loss|err|mse|mae|rmse|mape|perplexity|latency|time|seconds|duration|_ms$|memory|bytes"
    r"|cost",
    re.IGNORECASE,
)


def better_low_by_name(key: str) -> bool:
    """Whether a metric called ``key`` is better low, as far as its name tells."""
    return bool(_BETTER_LOW.search(key))


def meets_target(value: float, target: float, *, maximize: bool) -> bool:
    """Whether ``value`` reaches ``target``: at or above it when higher is better, at or
    below it when lower is better. Reaching the target exactly meets it."""
    return value >= target if maximize else value <= target


def shortfall(value: float, target: float, *, maximize: bool) -> float:
    """How far ``value`` falls short of ``target`` in the metric's direction: positive when
    it misses, zero or negative when it meets it (:func:`meets_target`)."""
    return target - value if maximize else value - target
