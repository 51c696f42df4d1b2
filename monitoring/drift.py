"""Per-feature drift between a deployment's reference data and a window of production data.

Pure numpy and scipy: no Django, no database. ``profile_*`` summarise a reference column once
(the deployment keeps the profile, so runs never read the reference again); ``feature_drift``
compares a current column with a profile; ``dataset_drift`` does every feature of a window.

**Which test** (``DriftMethod.AUTO``) follows Evidently's default rules, so results read the
same as its DataDriftPreset:

====================  ===============================  ==========================  =========
reference rows        column                           test                        drift if
====================  ===============================  ==========================  =========
<= 1000               numeric, more than 5 values      Kolmogorov-Smirnov p-value  p <= 0.05
<= 1000               categorical or numeric <= 5      chi-squared p-value (two-   p < 0.05
                      values, more than 2 values       sample test, see below)
<= 1000               2 values or fewer                two-proportion z-test p     p < 0.05
> 1000                numeric, more than 5 values      Wasserstein distance        >= 0.1
                                                       divided by the reference sd
> 1000                categorical or numeric <= 5      Jensen-Shannon distance     >= 0.1
                      values
any, on request       numeric or categorical           PSI                         >= 0.25
                                                       (warning from 0.1)
====================  ===============================  ==========================  =========

"Values" counts the distinct values of reference and current together; missing values
(NaN, infinities, None) are left out of every test and counted for data quality instead.
Every threshold can be set per monitor and per feature.

One deliberate difference: chi-squared here is the two-sample test of homogeneity, where
Evidently's is a goodness-of-fit test against the reference's shares, whose false-alarm
rate on samples of equal size is several times its level (``chi_squared_p``).

**What a profile keeps**: counts, mean, standard deviation, range; the distinct values with
their counts when there are at most ``VALUE_COUNTS_LIMIT``; and the sorted values
themselves up to ``SAMPLE_SIZE`` of them, else ``SAMPLE_SIZE`` quantiles at the midpoints
``(i + 0.5) / SAMPLE_SIZE``. Kolmogorov-Smirnov (reference <= 1000 rows) therefore always
sees the exact reference; Wasserstein on a larger reference sees it through 4,096
quantiles, which moves the normed distance by about 1e-4 on smooth data, three orders of
magnitude below the threshold.

**Not enough data**: a feature with fewer than ``min_rows`` non-missing values on either
side is reported as such, never as drift.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats
from scipy.spatial import distance

from monitoring.choices import ColumnKind, DriftMethod

SMALL_REFERENCE = 1000  # Evidently's switch from p-value tests to distances
FEW_VALUES = 5  # numeric columns with at most this many values are tested as categories
BINARY = 2
VALUE_COUNTS_LIMIT = 20  # PSI and Jensen-Shannon bin numeric columns with more values
SAMPLE_SIZE = 4096
CATEGORY_LIMIT = 10_000  # distinct categories a profile keeps; the rest count as one
OTHER = "\x00other"
DEFAULT_MIN_ROWS = 100
DEFAULT_DRIFT_SHARE = 0.5

THRESHOLDS: dict[str, float] = {
    DriftMethod.KS: 0.05,
    DriftMethod.CHISQUARE: 0.05,
    DriftMethod.Z: 0.05,
    DriftMethod.WASSERSTEIN: 0.1,
    DriftMethod.JENSENSHANNON: 0.1,
    DriftMethod.PSI: 0.25,
}
PSI_WARNING = 0.1
P_VALUE_METHODS = frozenset({DriftMethod.KS, DriftMethod.CHISQUARE, DriftMethod.Z})
NUMERIC_ONLY = frozenset({DriftMethod.KS, DriftMethod.WASSERSTEIN})


class DriftError(ValueError):
    """A configuration the tests cannot run with (a method for the wrong kind of column)."""


# --- Profiles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NumericProfile:
    n: int
    missing: int
    mean: float
    std: float
    min: float
    max: float
    n_unique: int  # exact up to VALUE_COUNTS_LIMIT, else VALUE_COUNTS_LIMIT + 1
    counts: dict[float, int] | None  # only when n_unique <= VALUE_COUNTS_LIMIT
    sample: np.ndarray = field(repr=False, compare=False)  # sorted; exact up to SAMPLE_SIZE
    kind: str = ColumnKind.NUMERIC

    @property
    def exact(self) -> bool:
        return self.sample.size == self.n

    def as_dict(self) -> dict[str, Any]:
        """Everything but the sample, as JSON-safe values."""
        return {
            "kind": self.kind,
            "n": self.n,
            "missing": self.missing,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "n_unique": self.n_unique,
            "counts": None
            if self.counts is None
            else [[value, count] for value, count in self.counts.items()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], sample: np.ndarray) -> NumericProfile:
        counts = data.get("counts")
        return cls(
            n=data["n"],
            missing=data["missing"],
            mean=data["mean"],
            std=data["std"],
            min=data["min"],
            max=data["max"],
            n_unique=data["n_unique"],
            counts=None if counts is None else {float(v): int(c) for v, c in counts},
            sample=np.asarray(sample, dtype=np.float64),
        )


@dataclass(frozen=True)
class CategoricalProfile:
    n: int
    missing: int
    counts: dict[str, int]
    kind: str = ColumnKind.CATEGORICAL

    @property
    def n_unique(self) -> int:
        return len(self.counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "n": self.n,
            "missing": self.missing,
            "counts": [[value, count] for value, count in self.counts.items()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalProfile:
        return cls(
            n=data["n"],
            missing=data["missing"],
            counts={str(v): int(c) for v, c in data["counts"]},
        )


Profile = NumericProfile | CategoricalProfile


def finite(values: Any) -> np.ndarray:
    """The finite values of a numeric column as float64 (NaN, infinities and None dropped)."""
    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)]


def profile_numeric(values: Any) -> NumericProfile:
    array = np.asarray(values, dtype=np.float64).ravel()
    kept = np.sort(array[np.isfinite(array)])
    n = int(kept.size)
    if n:
        changes = np.flatnonzero(np.diff(kept)) + 1
        n_unique = int(changes.size + 1)
    else:
        changes, n_unique = np.empty(0, dtype=np.intp), 0
    counts = None
    if n_unique <= VALUE_COUNTS_LIMIT and n:
        starts = np.concatenate(([0], changes))
        sizes = np.diff(np.concatenate((starts, [n])))
        counts = {float(kept[s]): int(c) for s, c in zip(starts, sizes, strict=True)}
    if n > SAMPLE_SIZE:
        positions = (np.arange(SAMPLE_SIZE) + 0.5) / SAMPLE_SIZE * n
        sample = kept[np.minimum(positions.astype(np.intp), n - 1)]
    else:
        sample = kept
    return NumericProfile(
        n=n,
        missing=int(array.size - n),
        mean=float(kept.mean()) if n else math.nan,
        std=float(kept.std()) if n else math.nan,
        min=float(kept[0]) if n else math.nan,
        max=float(kept[-1]) if n else math.nan,
        n_unique=min(n_unique, VALUE_COUNTS_LIMIT + 1),
        counts=counts,
        sample=sample,
    )


def category_counts(values: Any) -> tuple[dict[str, int], int]:
    """Counts of each category (as text) and the number of missing values, in C++."""
    array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.string())
    missing = array.null_count
    counted = pc.value_counts(array.drop_null() if missing else array)
    names = counted.field("values").to_pylist()
    sizes = counted.field("counts").to_pylist()
    return dict(zip(names, sizes, strict=True)), int(missing)


def profile_categorical(values: Any) -> CategoricalProfile:
    counts, missing = category_counts(values)
    if len(counts) > CATEGORY_LIMIT:
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        counts = dict(ranked[: CATEGORY_LIMIT - 1])
        counts[OTHER] = sum(count for _, count in ranked[CATEGORY_LIMIT - 1 :])
    return CategoricalProfile(n=sum(counts.values()), missing=missing, counts=counts)


def profile(values: Any, kind: str) -> Profile:
    if kind == ColumnKind.NUMERIC:
        return profile_numeric(values)
    if kind == ColumnKind.CATEGORICAL:
        return profile_categorical(values)
    raise DriftError(f"unknown column kind {kind!r}")


# --- Results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    kind: str
    method: str | None  # None when there was not enough data to choose one
    score: float | None
    threshold: float | None
    drifted: bool
    status: str  # "ok", "warning" (PSI between its two thresholds), "drift", "not_enough_data"
    n_reference: int
    n_current: int

    def as_dict(self) -> dict[str, Any]:
        score = self.score
        return {
            "name": self.name,
            "kind": self.kind,
            "method": self.method,
            "score": None if score is None or not math.isfinite(score) else score,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "status": self.status,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
        }


@dataclass(frozen=True)
class DatasetDrift:
    features: tuple[FeatureDrift, ...]
    drift_share: float

    @property
    def evaluated(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.status != "not_enough_data"]

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    @property
    def share(self) -> float | None:
        evaluated = len(self.evaluated)
        return len(self.drifted) / evaluated if evaluated else None

    @property
    def dataset_drift(self) -> bool:
        share = self.share
        return share is not None and share >= self.drift_share


@dataclass(frozen=True)
class FeatureOptions:
    method: str = DriftMethod.AUTO
    threshold: float | None = None


def auto_method(profile: Profile, n_values: int) -> str:
    """Evidently's choice for a column, from the reference size and distinct values."""
    numeric_many = profile.kind == ColumnKind.NUMERIC and n_values > FEW_VALUES
    if profile.n <= SMALL_REFERENCE:
        if numeric_many:
            return DriftMethod.KS
        return DriftMethod.CHISQUARE if n_values > BINARY else DriftMethod.Z
    return DriftMethod.WASSERSTEIN if numeric_many else DriftMethod.JENSENSHANNON


def _decide(method: str, score: float, threshold: float) -> tuple[bool, str]:
    if method == DriftMethod.KS:
        drifted = score <= threshold
    elif method in P_VALUE_METHODS:
        drifted = score < threshold
    else:
        drifted = score >= threshold
    if drifted:
        return True, "drift"
    if method == DriftMethod.PSI and score >= min(PSI_WARNING, threshold):
        return False, "warning"
    return False, "ok"


# --- The tests on counts (categorical columns, few-valued numeric columns) --------------


def _aligned_counts(
    reference: Mapping[Any, int], current: Mapping[Any, int]
) -> tuple[np.ndarray, np.ndarray]:
    keys = list(reference.keys() | current.keys())
    ref = np.array([reference.get(k, 0) for k in keys], dtype=np.float64)
    cur = np.array([current.get(k, 0) for k in keys], dtype=np.float64)
    return ref, cur


def chi_squared_p(ref: np.ndarray, cur: np.ndarray) -> float:
    """Pearson's chi-squared test of homogeneity of the two samples' counts (2 x k table).

    Evidently instead tests the current counts against the reference's shares taken as
    exact (goodness of fit). With a reference no larger than the window that doubles the
    statistic's variance under no drift: about 29% false alarms for five categories at
    the 0.05 level, where the two-sample test has the 5% it promises.
    """
    table = np.vstack((ref, cur))
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < BINARY:
        return 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    return float(stats.chi2.sf(statistic, table.shape[1] - 1))


def z_test_p(ref: np.ndarray, cur: np.ndarray) -> float:
    """Two-proportion z-test, pooled variance, on the share of all but the first category
    (two-sided, so which category comes first does not matter)."""
    if ref.size < BINARY:
        return 1.0
    n1, n2 = ref.sum(), cur.sum()
    p1, p2 = ref[1:].sum() / n1, cur[1:].sum() / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 1.0
    return float(2 * stats.norm.sf(abs(p1 - p2) / spread))


def jensen_shannon(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    return float(distance.jensenshannon(ref_share, cur_share))


def _fill_zeroes(share: np.ndarray) -> np.ndarray:
    """PSI's logarithm needs no empty bin: Evidently's floor, kept for equal numbers."""
    share = share.copy()
    smallest = share[share > 0].min()
    share[share == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return share


def psi(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    ref_share, cur_share = _fill_zeroes(ref_share), _fill_zeroes(cur_share)
    return float(np.sum((ref_share - cur_share) * np.log(ref_share / cur_share)))


def _on_counts(method: str, ref: np.ndarray, cur: np.ndarray) -> float:
    if method == DriftMethod.CHISQUARE:
        return chi_squared_p(ref, cur)
    if method == DriftMethod.Z:
        return z_test_p(ref, cur)
    ref_share, cur_share = ref / ref.sum(), cur / cur.sum()
    if method == DriftMethod.JENSENSHANNON:
        return jensen_shannon(ref_share, cur_share)
    if method == DriftMethod.PSI:
        return psi(ref_share, cur_share)
    raise DriftError(f"{method} does not apply to counts")


# --- The tests on numeric values ---------------------------------------------------------


def _histogram_shares(
    profile: NumericProfile, cur_sorted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Shares of reference and current in Sturges bins over their joint range (Evidently's
    binning for PSI and Jensen-Shannon on columns of more than 20 values)."""
    low = min(profile.min, float(cur_sorted[0]))
    high = max(profile.max, float(cur_sorted[-1]))
    bins = math.ceil(math.log2(profile.n + cur_sorted.size)) + 1
    edges = np.linspace(low, high, bins + 1) if high > low else np.array([low - 0.5, low + 0.5])
    # A value on an inner edge belongs to the bin on its right, as in np.histogram.
    return _bin_shares(profile.sample, edges[1:-1]), _bin_shares(cur_sorted, edges[1:-1])


def _bin_shares(sorted_values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    below = np.searchsorted(sorted_values, inner_edges, side="left") / sorted_values.size
    return np.diff(np.concatenate(([0.0], below, [1.0])))


def _ks_p(profile: NumericProfile, cur_sorted: np.ndarray) -> float:
    return float(stats.ks_2samp(profile.sample, cur_sorted).pvalue)


def wasserstein_normed(samples: np.ndarray, current: np.ndarray, std: np.ndarray) -> np.ndarray:
    """W1 between each row of ``samples`` (equal weights) and of ``current`` (sorted rows of
    one length), divided by the reference's standard deviation (at least 0.001).

    Both quantile functions are steps: W1 is the integral of their distance over (0, 1),
    taken exactly on the union of their breakpoints, for every feature of a group at once.
    """
    m, n = samples.shape[1], current.shape[1]
    grid = np.union1d(np.arange(m + 1) / m, np.arange(n + 1) / n)
    middle = (grid[:-1] + grid[1:]) / 2
    widths = np.diff(grid)
    left = np.minimum((middle * m).astype(np.intp), m - 1)
    right = np.minimum((middle * n).astype(np.intp), n - 1)
    out = np.empty(samples.shape[0])
    step = max(1, 2**23 // max(grid.size, 1))  # rows per chunk: about 64 MB of gathers
    for start in range(0, samples.shape[0], step):
        rows = slice(start, start + step)
        gap = np.abs(samples[rows][:, left] - current[rows][:, right])
        out[rows] = gap @ widths
    return out / np.maximum(std, 0.001)


# --- One window -------------------------------------------------------------------------


@dataclass
class _Pending:
    """A numeric feature waiting for the grouped Wasserstein computation."""

    index: int
    name: str
    profile: NumericProfile
    current: np.ndarray
    threshold: float


def _not_enough(name: str, profile: Profile, n_current: int) -> FeatureDrift:
    return FeatureDrift(
        name, profile.kind, None, None, None, False, "not_enough_data", profile.n, n_current
    )


def _threshold(method: str, options: FeatureOptions) -> float:
    return THRESHOLDS[method] if options.threshold is None else float(options.threshold)


def check_method(method: str, kind: str) -> None:
    if method not in DriftMethod.values:
        raise DriftError(f"unknown drift method {method!r}; one of {', '.join(DriftMethod.values)}")
    if kind == ColumnKind.CATEGORICAL and method in NUMERIC_ONLY:
        raise DriftError(f"{method} applies to numeric columns only")


def dataset_drift(
    profiles: Mapping[str, Profile],
    current: Mapping[str, Any],
    *,
    options: Mapping[str, FeatureOptions] | None = None,
    default: FeatureOptions = FeatureOptions(),
    min_rows: int = DEFAULT_MIN_ROWS,
    drift_share: float = DEFAULT_DRIFT_SHARE,
) -> DatasetDrift:
    """Drift of every profiled feature in ``current`` (a column per name: numbers for numeric
    features, text or None for categorical ones).

    Numeric features tested with Wasserstein are grouped by their sample and window sizes
    and computed together; everything else is a few numpy calls per feature.
    """
    options = options or {}
    results: list[FeatureDrift | None] = []
    pending: list[_Pending] = []
    for index, (name, prof) in enumerate(profiles.items()):
        opts = options.get(name, default)
        check_method(opts.method, prof.kind)
        column = current.get(name)
        if column is None:
            raise DriftError(f"the current data has no column {name!r}")
        if prof.kind == ColumnKind.NUMERIC:
            values = np.sort(finite(column))
            if prof.n < min_rows or values.size < min_rows:
                results.append(_not_enough(name, prof, int(values.size)))
                continue
            method = opts.method
            if method == DriftMethod.AUTO:
                method = auto_method(prof, _numeric_n_values(prof, values))
            threshold = _threshold(method, opts)
            if method == DriftMethod.WASSERSTEIN:
                results.append(None)
                pending.append(_Pending(index, name, prof, values, threshold))
                continue
            score = _numeric_score(method, prof, values)
            n_current = int(values.size)
        else:
            counts, _ = category_counts(column)
            n_current = sum(counts.values())
            if prof.n < min_rows or n_current < min_rows:
                results.append(_not_enough(name, prof, n_current))
                continue
            method = opts.method
            if method == DriftMethod.AUTO:
                method = auto_method(prof, len(prof.counts.keys() | counts.keys()))
            threshold = _threshold(method, opts)
            ref, cur = _aligned_counts(prof.counts, _fold_unknown(counts, prof))
            score = _on_counts(method, ref, cur)
        drifted, status = _decide(method, score, threshold)
        results.append(
            FeatureDrift(
                name, prof.kind, method, score, threshold, drifted, status, prof.n, n_current
            )
        )

    groups: dict[tuple[int, int], list[_Pending]] = {}
    for item in pending:
        groups.setdefault((item.profile.sample.size, item.current.size), []).append(item)
    for items in groups.values():
        scores = wasserstein_normed(
            np.stack([i.profile.sample for i in items]),
            np.stack([i.current for i in items]),
            np.array([i.profile.std for i in items]),
        )
        for item, score in zip(items, scores, strict=True):
            drifted, status = _decide(DriftMethod.WASSERSTEIN, float(score), item.threshold)
            results[item.index] = FeatureDrift(
                item.name,
                ColumnKind.NUMERIC,
                DriftMethod.WASSERSTEIN,
                float(score),
                item.threshold,
                drifted,
                status,
                item.profile.n,
                int(item.current.size),
            )
    return DatasetDrift(features=tuple(results), drift_share=drift_share)  # type: ignore[arg-type]


def _fold_unknown(counts: dict[str, int], profile: CategoricalProfile) -> dict[str, int]:
    """Categories a capped profile lumped together are lumped in the window too."""
    if OTHER not in profile.counts:
        return counts
    folded: dict[str, int] = {}
    for value, count in counts.items():
        key = value if value in profile.counts else OTHER
        folded[key] = folded.get(key, 0) + count
    return folded


def _numeric_n_values(profile: NumericProfile, cur_sorted: np.ndarray) -> int:
    """Distinct values of reference and current together, exactly when it matters (<= 5)."""
    if profile.counts is None or profile.n_unique > FEW_VALUES:
        return profile.n_unique
    distinct = cur_sorted[np.concatenate(([True], np.diff(cur_sorted) != 0))]
    return int(np.union1d(distinct, np.fromiter(profile.counts, dtype=np.float64)).size)


def _numeric_score(method: str, profile: NumericProfile, cur_sorted: np.ndarray) -> float:
    if method == DriftMethod.KS:
        return _ks_p(profile, cur_sorted)
    if method == DriftMethod.WASSERSTEIN:
        return float(
            wasserstein_normed(
                profile.sample[None, :], cur_sorted[None, :], np.array([profile.std])
            )[0]
        )
    if profile.counts is not None:
        # Few values: count them as categories (chi-squared, z, and PSI and Jensen-Shannon
        # on at most 20 values, as Evidently does).
        distinct, sizes = np.unique(cur_sorted, return_counts=True)
        current = dict(zip(distinct.tolist(), sizes.tolist(), strict=True))
        ref, cur = _aligned_counts(profile.counts, current)
        return _on_counts(method, ref, cur)
    if method in (DriftMethod.CHISQUARE, DriftMethod.Z):
        raise DriftError(f"{method} needs a column of at most {VALUE_COUNTS_LIMIT} values")
    ref_share, cur_share = _histogram_shares(profile, cur_sorted)
    if method == DriftMethod.JENSENSHANNON:
        return jensen_shannon(ref_share, cur_share)
    return psi(ref_share, cur_share)
