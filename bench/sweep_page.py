"""Sweep page benchmark: the first view of a settled sweep's page in a fresh web process.

Why this exists: the page of a finished sweep shows which params mattered (Optuna's
fANOVA). Computed on a view, the first view in each web process imports Optuna and
scikit-learn (seconds) and every view reruns fANOVA. The worker that ends a sweep's last
trial now keeps them on the sweep (``Sweep.importances``). This measures both in the same
run, on the same data, each in fresh processes, as a web worker meets them after a start:

    .venv/bin/python bench/sweep_page.py                # about two minutes
    dropdb -h 127.0.0.1 -U postgres mlprojects_bench_sweep

1. **Set up** (once, in this process) a database of its own on the local PostgreSQL
   (``--database``, rebuilt each run): a project and two identical finished sweeps of
   ``--trials`` trials (k-nearest neighbours and random forest on iris), run through the
   ledger as workers run them. The first keeps its importances as the worker keeps them;
   the second's are cleared: the baseline, the page as it was.
2. **Measure** each sweep's page ``--repeat`` times, alternating, each time in a new
   process (``--measure``): Django's test ``Client`` (whole middleware stack, templates,
   ``DEBUG`` off, static files collected once), the first request's server time, then the
   median of five more.

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from _production import start_django  # bench/_production.py: run as a script from bench/


def _django(database: str) -> None:
    start_django(f"postgres://postgres@127.0.0.1:5432/{database}", var="mlprojects-bench")


def set_up(database: str, trials: int) -> tuple[int, int]:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", database])
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    _django(database)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from experiments import services
    from experiments.models import Sweep, Trial
    from experiments.sweeps import ledger
    from tests.factories import UserFactory, make_project

    owner = UserFactory(username="bench-owner")
    project = make_project(owner=owner, name="Sweep page bench")
    dataset = services.dataset_create(project=project, user=owner, name="iris", builtin="iris")
    made = []
    for name in ("kept", "computed"):
        sweep = services.sweep_create(
            project=project, user=owner, name=name, dataset=dataset,
            families=["knn", "random_forest"], strategy="random", max_trials=trials,
            folds=3, seed=11,
        )  # fmt: skip
        for trial in Trial.objects.filter(sweep=sweep).order_by("number"):
            ledger.run_trial(trial.pk, owner=ledger.new_owner("bench"))
        services.sweep_importances_keep(trial_id=trial.pk)
        made.append(sweep.pk)
    Sweep.objects.filter(pk=made[1]).update(importances={})
    kept = Sweep.objects.get(pk=made[0]).importances
    print(f"set up: 2 sweeps of {trials} trials; kept importances of {kept['family']}: "
          f"{json.dumps(kept['values'])}")  # fmt: skip
    return made[0], made[1]


def measure(database: str, sweep_id: int) -> dict:
    started = time.perf_counter()
    _django(database)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from experiments.models import Sweep

    setup = time.perf_counter() - started
    sweep = Sweep.objects.select_related("project").get(pk=sweep_id)
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-owner"))
    url = reverse("dashboard:sweep", args=[sweep.project.slug, sweep.pk])
    times = []
    for _ in range(6):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    return {
        "setup_s": setup,
        "first_ms": times[0] * 1000,
        "later_ms": statistics.median(times[1:]) * 1000,
        "optuna_imported": "optuna" in sys.modules,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="mlprojects_bench_sweep")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.database, args.measure)))
        return 0
    kept, computed = set_up(args.database, args.trials)
    found: dict[str, list[dict]] = {"kept": [], "computed": []}
    for _ in range(args.repeat):
        for name, sweep_id in (("kept", kept), ("computed", computed)):
            done = subprocess.run(
                [sys.executable, __file__, "--database", args.database, "--measure",
                 str(sweep_id)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            found[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"{'page':<10} {'first view ms (median)':>24} {'later views ms':>16} {'Optuna loaded':>14}"
    )
    for name, rows in found.items():
        first = statistics.median(r["first_ms"] for r in rows)
        later = statistics.median(r["later_ms"] for r in rows)
        loaded = sum(r["optuna_imported"] for r in rows)
        print(f"{name:<10} {first:>24.0f} {later:>16.1f} {loaded:>10}/{len(rows)}")
    ratio = statistics.median(r["first_ms"] for r in found["computed"]) / statistics.median(
        r["first_ms"] for r in found["kept"]
    )
    print(f"first view, computed / kept: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
