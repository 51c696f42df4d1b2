"""Per-feature drift: the test chosen, its numbers against scipy's, and its error rates.

The rate tests use many independent features in one call (each feature a replicate), so
hundreds of replicates cost one vectorised run of the real code path.
"""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from monitoring import drift
from monitoring.choices import ColumnKind, DriftMethod

NUM, CAT = ColumnKind.NUMERIC, ColumnKind.CATEGORICAL
CATEGORIES = np.array(["a", "b", "c", "d", "e"], dtype=object)


def one(reference, current, kind, **kwargs) -> drift.FeatureDrift:
    result = drift.dataset_drift({"x": drift.profile(reference, kind)}, {"x": current}, **kwargs)
    return result.features[0]


@pytest.mark.parametrize(
    ("rows", "values", "kind", "method"),
    [
        (1000, None, NUM, DriftMethod.KS),
        (1000, [0.0, 1.0, 2.0, 3.0, 4.0], NUM, DriftMethod.CHISQUARE),
        (1000, [0.0, 1.0], NUM, DriftMethod.Z),
        (1000, ["a", "b", "c"], CAT, DriftMethod.CHISQUARE),
        (1000, ["yes", "no"], CAT, DriftMethod.Z),
        (1001, None, NUM, DriftMethod.WASSERSTEIN),
        (1001, [0.0, 1.0, 2.0], NUM, DriftMethod.JENSENSHANNON),
        (1001, ["a", "b", "c"], CAT, DriftMethod.JENSENSHANNON),
        (1001, ["yes", "no"], CAT, DriftMethod.JENSENSHANNON),
    ],
)
def test_the_test_is_chosen_by_kind_reference_size_and_distinct_values(rows, values, kind, method):
    rng = np.random.default_rng(0)
    if values is None:
        reference, current = rng.normal(size=rows), rng.normal(size=500)
    else:
        reference = np.array(values, dtype=object)[rng.integers(len(values), size=rows)]
        current = np.array(values, dtype=object)[rng.integers(len(values), size=500)]
        if kind == NUM:
            reference, current = reference.astype(float), current.astype(float)
    assert one(reference, current, kind).method == method


def test_distinct_values_count_both_sides():
    """Three values in the reference and three more in the window make six: a numeric
    column of more than five values, tested as numbers (Kolmogorov-Smirnov)."""
    reference = np.tile([0.0, 1.0, 2.0], 300)
    current = np.tile([3.0, 4.0, 5.0], 300)
    feature = one(reference, current, NUM)
    assert feature.method == DriftMethod.KS
    assert feature.drifted


def test_numbers_match_scipy_on_exact_profiles():
    rng = np.random.default_rng(1)
    reference, current = rng.normal(size=800), rng.normal(0.1, 1.2, size=900)
    ks = one(reference, current, NUM)
    assert ks.score == pytest.approx(stats.ks_2samp(reference, current).pvalue, rel=1e-12)
    assert ks.threshold == 0.05

    reference, current = rng.normal(size=3000), rng.normal(0.05, 1, size=2500)
    wasserstein = one(reference, current, NUM)
    exact = stats.wasserstein_distance(reference, current) / reference.std()
    assert wasserstein.score == pytest.approx(exact, rel=1e-9)

    reference = CATEGORIES[rng.integers(5, size=3000)]
    current = CATEGORIES[rng.choice(5, size=2000, p=[0.3, 0.2, 0.2, 0.2, 0.1])]
    js = one(reference, current, CAT)
    ref_share = np.array([(reference == c).mean() for c in CATEGORIES])
    cur_share = np.array([(current == c).mean() for c in CATEGORIES])
    assert js.score == pytest.approx(distance.jensenshannon(ref_share, cur_share), rel=1e-9)


def test_chi_squared_is_the_two_sample_test_of_homogeneity():
    rng = np.random.default_rng(2)
    reference = CATEGORIES[rng.integers(5, size=600)]
    current = CATEGORIES[rng.integers(5, size=400)]
    table = [
        [(reference == c).sum() for c in CATEGORIES],
        [(current == c).sum() for c in CATEGORIES],
    ]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert one(reference, current, CAT).score == pytest.approx(expected, rel=1e-9)


def test_z_test_matches_the_pooled_two_proportion_test():
    reference = np.array(["yes"] * 300 + ["no"] * 700, dtype=object)
    current = np.array(["yes"] * 380 + ["no"] * 620, dtype=object)
    p1, p2, pooled = 0.3, 0.38, 0.34
    z = (p2 - p1) / np.sqrt(pooled * (1 - pooled) * (2 / 1000))
    feature = one(reference, current, CAT)
    assert feature.method == DriftMethod.Z
    assert feature.score == pytest.approx(2 * stats.norm.sf(z), rel=1e-9)
    assert feature.drifted


def test_a_large_reference_is_kept_as_quantiles_close_to_the_exact_distance():
    rng = np.random.default_rng(3)
    reference, current = rng.lognormal(0, 0.7, size=100_000), rng.lognormal(0.05, 0.7, 20_000)
    prof = drift.profile(reference, NUM)
    assert prof.sample.size == drift.SAMPLE_SIZE
    assert prof.n == 100_000
    assert prof.std == pytest.approx(reference.std())
    exact = stats.wasserstein_distance(reference, current) / reference.std()
    assert one(reference, current, NUM).score == pytest.approx(exact, abs=1e-3)


def test_psi_on_request_with_its_warning_band():
    rng = np.random.default_rng(4)
    reference = rng.normal(size=5000)
    options = drift.FeatureOptions(method=DriftMethod.PSI)
    same = one(reference, rng.normal(size=5000), NUM, default=options)
    moderate = one(reference, rng.normal(0.45, 1, size=5000), NUM, default=options)
    large = one(reference, rng.normal(1.5, 1, size=5000), NUM, default=options)
    assert (same.status, moderate.status, large.status) == ("ok", "warning", "drift")
    assert 0.1 <= moderate.score < 0.25 <= large.score
    assert not moderate.drifted and large.drifted


def test_thresholds_per_feature_and_per_monitor():
    rng = np.random.default_rng(5)
    reference = {"a": rng.normal(size=2000), "b": rng.normal(size=2000)}
    current = {"a": rng.normal(0.15, 1, 2000), "b": rng.normal(0.15, 1, 2000)}
    profiles = {name: drift.profile(values, NUM) for name, values in reference.items()}
    result = drift.dataset_drift(
        profiles,
        current,
        default=drift.FeatureOptions(threshold=0.5),
        options={"b": drift.FeatureOptions(threshold=0.05)},
    )
    a, b = result.features
    assert (a.threshold, a.drifted) == (0.5, False)
    assert (b.threshold, b.drifted) == (0.05, True)
    assert result.share == 0.5 and result.dataset_drift  # Evidently's rule: share >= 0.5


def test_a_method_for_the_wrong_kind_is_refused():
    prof = drift.profile(CATEGORIES[:3], CAT)
    with pytest.raises(drift.DriftError, match="numeric columns only"):
        drift.dataset_drift(
            {"x": prof}, {"x": CATEGORIES[:3]}, default=drift.FeatureOptions(method="ks")
        )


def test_not_enough_data_is_no_alarm():
    rng = np.random.default_rng(6)
    reference = rng.normal(size=2000)
    current = np.concatenate([rng.normal(5, 1, 50), np.full(500, np.nan)])
    feature = one(reference, current, NUM, min_rows=100)
    assert feature.status == "not_enough_data"
    assert not feature.drifted and feature.method is None
    assert feature.n_current == 50
    result = drift.dataset_drift({"x": drift.profile(reference, NUM)}, {"x": current})
    assert result.share is None and not result.dataset_drift


def test_missing_values_are_left_out_of_the_tests():
    rng = np.random.default_rng(7)
    reference = rng.normal(size=3000)
    current = rng.normal(size=3000)
    current[::3] = np.nan
    current[1::7] = np.inf
    feature = one(reference, current, NUM)
    assert feature.n_current == np.isfinite(current).sum()
    assert not feature.drifted
    prof = drift.profile(np.array([1.0, np.nan, np.inf, 2.0]), NUM)
    assert (prof.n, prof.missing) == (2, 2)
    cats = drift.profile(np.array(["a", None, "b", None], dtype=object), CAT)
    assert (cats.n, cats.missing, cats.counts) == (2, 2, {"a": 1, "b": 1})


def test_profiles_survive_storage():
    rng = np.random.default_rng(8)
    numeric = drift.profile(np.round(rng.normal(size=9000), 0), NUM)
    restored = drift.NumericProfile.from_dict(numeric.as_dict(), numeric.sample.copy())
    assert restored.as_dict() == numeric.as_dict()
    assert np.array_equal(restored.sample, numeric.sample)
    assert numeric.counts is not None  # few values: kept exactly
    categorical = drift.profile(CATEGORIES[rng.integers(5, size=100)], CAT)
    assert drift.CategoricalProfile.from_dict(categorical.as_dict()) == categorical


# --- Error rates ----------------------------------------------------------------------

REPLICATES = 400


def replicate(rng, draw, kind, n, shifted=None):
    profiles = {f"f{i}": drift.profile(draw(rng, n), kind) for i in range(REPLICATES)}
    current = {f"f{i}": (shifted or draw)(rng, n) for i in range(REPLICATES)}
    return drift.dataset_drift(profiles, current)


def normal(rng, n):
    return rng.normal(10, 2, n)


def shifted_normal(rng, n):
    return rng.normal(10 + 0.5 * 2, 2, n)


def categories(rng, n):
    return CATEGORIES[rng.choice(5, n, p=[0.2, 0.2, 0.2, 0.2, 0.2])]


def doubled_share(rng, n):
    return CATEGORIES[rng.choice(5, n, p=[0.4, 0.15, 0.15, 0.15, 0.15])]


# At most 5% for a test of level 0.05 means: the count of false alarms among independent
# replicates is no larger than a 5% rate could give (one-sided, at the 0.001 level).
MOST_FALSE_ALARMS = int(stats.binom.ppf(0.999, REPLICATES, 0.05))


@pytest.mark.parametrize(
    ("draw", "kind", "n", "method"),
    [
        (normal, NUM, 1000, DriftMethod.KS),
        (normal, NUM, 2000, DriftMethod.WASSERSTEIN),
        (categories, CAT, 1000, DriftMethod.CHISQUARE),
        (categories, CAT, 2000, DriftMethod.JENSENSHANNON),
    ],
)
def test_false_alarm_rate_is_at_most_five_percent_on_identical_distributions(draw, kind, n, method):
    result = replicate(np.random.default_rng(10), draw, kind, n)
    assert {f.method for f in result.features} == {method}
    false_alarms = len(result.drifted)
    assert false_alarms <= MOST_FALSE_ALARMS, f"{false_alarms} of {REPLICATES}"
    if method in (DriftMethod.WASSERSTEIN, DriftMethod.JENSENSHANNON):
        assert false_alarms / REPLICATES <= 0.05


@pytest.mark.parametrize(
    ("draw", "shifted", "kind", "n"),
    [
        (normal, shifted_normal, NUM, 1000),
        (normal, shifted_normal, NUM, 2000),
        (categories, doubled_share, CAT, 1000),
        (categories, doubled_share, CAT, 2000),
    ],
)
def test_half_a_standard_deviation_or_a_doubled_share_is_found(draw, shifted, kind, n):
    result = replicate(np.random.default_rng(11), draw, kind, n, shifted)
    assert len(result.drifted) == REPLICATES
