"""Drift benchmark: ``monitoring.drift`` against Evidently's DataDriftPreset, on the same data.

What it measures, in one run (never in the test suite: timings on a shared machine would
make tests flaky):

1. **Agreement**: the per-feature drift decision of ``monitoring.drift.dataset_drift`` and of
   Evidently's ``DataDriftPreset`` (its "Value Drift for column" tests) on the same
   reference and current data. Target: the same decision on at least 95% of features.
   Checked on the large data (distances: Wasserstein, Jensen-Shannon) and on a small one of
   800 rows a side (p-values: Kolmogorov-Smirnov, chi-squared, z-test). Chi-squared differs
   on purpose (ours is the two-sample test, Evidently's a goodness of fit whose false-alarm
   rate is several times its level), so the small data's target is judged on the other
   features and its overall agreement is printed beside it, with every differing feature.
2. **Speed and memory** on 100 features (80 numeric, 20 categorical), 100,000 reference and
   100,000 current rows, each side in a process of its own on one core (BLAS and OpenMP
   threads set to 1): ours profiles the reference (what a deployment stores once) and tests
   the window; Evidently runs its report. Targets: ours under 10 s, and Evidently's time at
   least 10x ours. Peak resident memory of each process is reported.

The data is synthetic and seeded: numeric columns from several families (normal, lognormal,
uniform, exponential, Student's t, a five-valued binomial, values rounded to one decimal,
some with 5% missing), categorical ones of 2 to 40 categories, and drift of graded sizes on
about half of the features, some near the thresholds, so that agreement is tested where
decisions are hard and not only on obvious cases.

Run from the repository root with the app's venv:

    .venv/bin/python bench/drift.py            # about a minute and a half, once the venv exists
    .venv/bin/python bench/drift.py --rows 20000 --small-rows 500   # a quick look

Evidently runs from ``--evidently-venv`` (default /tmp/evidently-venv), created with
``BENCH_REQUIREMENTS`` when missing, so it never touches the app's venv. Exits non-zero when
a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# The "bench" extra of pyproject.toml, for the Evidently venv (pandas 3 breaks Evidently 0.7).
BENCH_REQUIREMENTS = ("evidently==0.7.23", "pandas>=2.2,<3", "pyarrow>=18")
DEFAULT_VENV = Path("/tmp/evidently-venv")  # noqa: S108  (a venv, not a secret)
ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
NUMERIC, CATEGORICAL = 80, 20
# Shifts in reference standard deviations (numeric) or in moved share (categorical).
NUMERIC_SHIFTS = (0, 0, 0, 0, 0, 0.03, 0.06, 0.09, 0.11, 0.14, 0.2, 0.5, 1.0)
CATEGORY_SHIFTS = (0, 0, 0, 0.02, 0.05, 0.08, 0.12, 0.2, 0.3)


def generate(rows: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """Reference and current tables of NUMERIC + CATEGORICAL columns."""
    rng = np.random.default_rng(seed)
    reference, current = {}, {}
    for i in range(NUMERIC):
        family = i % 8
        shift = NUMERIC_SHIFTS[i % len(NUMERIC_SHIFTS)]

        def draw(size: int, moved: float, family: int = family) -> np.ndarray:
            if family == 0:
                return rng.normal(10 + moved, 1, size)
            if family == 1:
                sample = rng.lognormal(0, 0.5, size)
                return sample + moved * 0.6  # the lognormal's sd is about 0.6
            if family == 2:
                return rng.uniform(0, 1, size) + moved * 0.29
            if family == 3:
                return rng.exponential(2, size) + moved * 2
            if family == 4:
                return rng.standard_t(5, size) + moved * 1.29
            if family == 5:
                return rng.binomial(4, min(0.3 + moved * 0.2, 0.95), size).astype(float)
            if family == 6:
                return np.round(rng.normal(moved, 1, size), 1)
            sample = rng.gamma(2, 1, size) + moved * 1.41
            sample[rng.random(size) < 0.05] = np.nan
            return sample

        reference[f"num_{i:02d}"] = draw(rows, 0.0)
        current[f"num_{i:02d}"] = draw(rows, shift)
    for j in range(CATEGORICAL):
        size = (2, 3, 5, 8, 12, 20, 40)[j % 7]
        shares = rng.dirichlet(np.full(size, 2.0))
        moved = shares.copy()
        shift = min(CATEGORY_SHIFTS[j % len(CATEGORY_SHIFTS)], moved[1:].sum())
        moved[0] += shift
        moved[1:] *= (1 - moved[0]) / moved[1:].sum()
        names = np.array([f"c{k}" for k in range(size)], dtype=object)
        reference[f"cat_{j:02d}"] = names[rng.choice(size, rows, p=shares)]
        current[f"cat_{j:02d}"] = names[rng.choice(size, rows, p=moved)]
    return pa.table(reference), pa.table(current)


def columns(table: pa.Table) -> tuple[list[str], list[str]]:
    numeric = [n for n in table.column_names if n.startswith("num_")]
    categorical = [n for n in table.column_names if n.startswith("cat_")]
    return numeric, categorical


def run_ours(folder: Path) -> None:
    """The child process of our side: read the files, then time profile + test."""
    from monitoring import drift
    from monitoring.choices import ColumnKind

    reference = pq.read_table(folder / "reference.parquet")
    current = pq.read_table(folder / "current.parquet")
    numeric, categorical = columns(reference)

    def as_columns(table: pa.Table) -> dict:
        out = {n: table.column(n).to_numpy() for n in numeric}
        out.update({n: table.column(n).combine_chunks() for n in categorical})
        return out

    ref_cols, cur_cols = as_columns(reference), as_columns(current)
    kinds = {n: ColumnKind.NUMERIC for n in numeric}
    kinds.update({n: ColumnKind.CATEGORICAL for n in categorical})

    started = time.perf_counter()
    profiles = {name: drift.profile(ref_cols[name], kind) for name, kind in kinds.items()}
    profiled = time.perf_counter()
    result = drift.dataset_drift(profiles, cur_cols)
    finished = time.perf_counter()
    print(
        json.dumps(
            {
                "profile_seconds": profiled - started,
                "drift_seconds": finished - profiled,
                "seconds": finished - started,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "columns": {
                    f.name: {"method": f.method, "score": f.score, "drifted": f.drifted}
                    for f in result.features
                },
            }
        )
    )


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating the Evidently venv at {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *BENCH_REQUIREMENTS], check=True)
    return python


def child(command: list[str]) -> dict:
    env = {**os.environ, **ONE_CORE}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{command[:2]} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(rows: int, seed: int, evidently: Path, label: str) -> tuple[dict, dict, float, float]:
    reference, current = generate(rows, seed)
    numeric, categorical = columns(reference)
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        folder = Path(tmp)
        pq.write_table(reference, folder / "reference.parquet")
        pq.write_table(current, folder / "current.parquet")
        ours = child([sys.executable, __file__, "--child", str(folder)])
        theirs = child(
            [
                str(evidently),
                str(REPO / "bench" / "drift_evidently.py"),
                str(folder),
                ",".join(numeric),
                ",".join(categorical),
            ]
        )
    names = numeric + categorical
    agree = [ours["columns"][n]["drifted"] == theirs["columns"][n]["drifted"] for n in names]
    share = sum(agree) / len(names)
    # Chi-squared is where the two differ on purpose (monitoring.drift.chi_squared_p).
    alike = [n for n in names if ours["columns"][n]["method"] != "chisquare"]
    alike_share = (
        sum(ours["columns"][n]["drifted"] == theirs["columns"][n]["drifted"] for n in alike)
        / len(alike)
        if alike
        else 1.0
    )
    print(f"\n{label}: {rows:,} reference and {rows:,} current rows, {len(names)} features")
    print(
        f"  same decision on {sum(agree)}/{len(names)} features ({share:.1%}); "
        f"drifted: ours {sum(ours['columns'][n]['drifted'] for n in names)}, "
        f"Evidently {sum(theirs['columns'][n]['drifted'] for n in names)}"
    )
    print(
        f"  outside chi-squared (the test that differs on purpose): {alike_share:.1%} "
        f"of {len(alike)} features"
    )
    for name, same in zip(names, agree, strict=True):
        if not same:
            o, t = ours["columns"][name], theirs["columns"][name]
            print(
                f"  differs: {name}: ours {o['method']} {o['score']:.6g} drifted={o['drifted']}; "
                f"Evidently {t['method']} {t['score']:.6g} drifted={t['drifted']}"
            )
    return ours, theirs, share, alike_share


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=100_000, help="rows a side (large data)")
    parser.add_argument("--small-rows", type=int, default=800, help="rows a side (small data)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--evidently-venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args()
    if args.child:
        run_ours(args.child)
        return 0

    evidently = ensure_venv(args.evidently_venv)
    load = os.getloadavg()
    print(f"{platform.node()}: {os.cpu_count()} cores, load average {load[0]:.1f} at start")
    _, _, _, small_alike = compare(args.small_rows, args.seed + 1, evidently, "small (p-values)")
    ours, theirs, large_share, _ = compare(args.rows, args.seed, evidently, "large (distances)")

    ratio = theirs["seconds"] / ours["seconds"]
    print("\nspeed, one core each, data already in memory:")
    print(
        f"  ours: {ours['seconds']:.2f} s (profile the reference {ours['profile_seconds']:.2f} s, "
        f"test the window {ours['drift_seconds']:.2f} s), peak RSS {ours['peak_rss_mb']:.0f} MB"
    )
    print(f"  Evidently: {theirs['seconds']:.2f} s, peak RSS {theirs['peak_rss_mb']:.0f} MB")
    print(f"  Evidently / ours: {ratio:.1f}x")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")

    checks = {
        "agreement >= 95% (small, outside chi-squared)": small_alike >= 0.95,
        "agreement >= 95% (large)": large_share >= 0.95,
        "ours < 10 s": ours["seconds"] < 10,
        "Evidently / ours >= 10": ratio >= 10,
    }
    for name, passed in checks.items():
        print(f"  {'PASS' if passed else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
