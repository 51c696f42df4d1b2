"""Dashboard benchmark: the portfolio page and a project page on a large portfolio.

Why this exists: issue 5 promises that the two pages stakeholders open most stay fast on a
large portfolio (1,000 projects, 100,000 runs, 10,000,000 metric points) and that their SQL
query count does not grow with the data. Timings on a shared 2-core machine would make
tests flaky, so this runs by hand, never in the test suite:

    .venv/bin/python bench/dashboard.py --projects 50 --runs 5000 --points 500000  # a minute
    .venv/bin/python bench/dashboard.py                                             # full size

1. **Generate** into its own PostgreSQL database (``--database``, default
   ``mlprojects_bench``; created and migrated when missing, rebuilt with ``--fresh``, reused
   when it already holds a portfolio of the asked size). Projects, memberships and phase
   history go through ``phases.services``, as people make them (a thousand projects take a
   minute); the bulk, runs with their tags, params, metric series, points and rollups, is
   made inside PostgreSQL with ``generate_series``, keeping the invariants of
   ``experiments/ingest.py``: each series' latest value and point count, and the min/max
   rollup of every block of steps.
2. **Measure** with Django's test ``Client`` (the whole middleware stack and templates,
   ``DEBUG`` off): after a warm-up, ``--requests`` requests per page, timed one by one; the
   median and 95th percentile of the server time, the SQL queries of one more request
   (Django's query log, series reads included) and the series the page draws
   (``experiments.series``).
   Each large page has a **baseline** in the same database: the portfolio of a viewer of
   ``--small-projects`` projects and a project of ``--small-runs`` runs. The query counts of
   the large pages must equal the baseline's. Target: p95 < 150 ms for the portfolio and
   for the project page of ``--big-runs`` runs. The run page and a comparison of the
   best five runs are measured too, for the record.

Only 127.0.0.1 is contacted; the database is kept afterwards (``dropdb mlprojects_bench``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from _production import start_django  # bench/_production.py: run as a script from bench/

REPO = Path(__file__).resolve().parent.parent
T0 = 1_767_000_000_000  # the first run's start, in MLflow's milliseconds
SLUG = "bench"  # every generated project's slug starts with it
BIG, SMALL = f"{SLUG}-big", f"{SLUG}-small"
METRIC, TARGET = "val_auc", 0.85
KEYS = (METRIC, "loss", "train_loss")
OWNERS = 10
TARGET_P95_MS = 150.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_argument_group("portfolio size (defaults: the issue's numbers)")
    size.add_argument("--projects", type=int, default=1000)
    size.add_argument("--runs", type=int, default=100_000, help="runs across all projects")
    size.add_argument("--points", type=int, default=10_000_000, help="metric points in all")
    size.add_argument("--big-runs", type=int, default=1000, help="runs of the measured project")
    size.add_argument("--small-runs", type=int, default=10, help="runs of the baseline project")
    size.add_argument(
        "--small-projects", type=int, default=10, help="projects the baseline viewer sees"
    )
    run = parser.add_argument_group("measurement")
    run.add_argument("--requests", type=int, default=50, help="timed requests per page")
    run.add_argument("--warmup", type=int, default=5, help="untimed requests per page first")
    db = parser.add_argument_group("database")
    db.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    db.add_argument("--database", default="mlprojects_bench")
    db.add_argument("--fresh", action="store_true", help="drop and rebuild the database")
    db.add_argument("--generate-only", action="store_true")
    db.add_argument("--measure-only", action="store_true", help="use the database as it is")
    args = parser.parse_args()
    if urlsplit(args.server).hostname not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("--server must be this machine's PostgreSQL")
    if args.projects < args.small_projects + 2:
        parser.error("--projects must exceed --small-projects by two (the big and small ones)")
    if args.runs < args.big_runs + args.small_runs + args.projects - 2:
        parser.error("--runs must give the big, the small and every other project a run")
    return args


# --- Database and Django ----------------------------------------------------------------


def prepare_database(args: argparse.Namespace) -> None:
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(f"{args.server}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        if args.fresh:
            log(f"dropping {args.database}")
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(args.database))
            )
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
        if cursor.fetchone() is None:
            log(f"creating {args.database}")
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
    connection.close()


def setup_django(args: argparse.Namespace) -> None:
    """Django as production runs it (``DEBUG`` off), on the benchmark's database."""
    start_django(f"{args.server}/{args.database}", var="mlprojects-bench")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


# --- Generation -------------------------------------------------------------------------


def runs_per_project(args: argparse.Namespace) -> list[int]:
    """The big project, the small one, then the rest of the runs spread evenly."""
    rest = args.projects - 2
    left = args.runs - args.big_runs - args.small_runs
    return [args.big_runs, args.small_runs] + [
        left // rest + (1 if i < left % rest else 0) for i in range(rest)
    ]


def existing_size() -> tuple[int, int]:
    from experiments.models import Run
    from phases.models import Project

    projects = Project.objects.filter(slug__startswith=SLUG).count()
    runs = Run.objects.filter(experiment__project__slug__startswith=SLUG).count()
    return projects, runs


def generate(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    users = make_users()
    projects = make_projects(args, users)
    make_history(projects, users)
    make_runs(args, projects)
    from phases import services

    log("health of every project (phases.services.project_health_refresh)")
    services.project_health_refresh()
    analyze()
    log(f"generated in {time.perf_counter() - started:.0f} s")


def make_users() -> dict[str, object]:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    names = ["bench-viewer", "bench-small-viewer"] + [f"bench-owner-{i}" for i in range(OWNERS)]
    users = {}
    for name in names:
        users[name], _ = User.objects.get_or_create(
            username=name, defaults={"first_name": name.replace("-", " ").title()}
        )
    return users


def make_projects(args: argparse.Namespace, users: dict) -> list:
    """Projects through the service, as people create them: phases, tasks and outcomes from
    the lifecycle templates, the owner a manager. Viewers join with one bulk insert."""
    from django.utils import timezone

    from phases import services
    from phases.choices import Role
    from phases.models import LifecycleTemplate, Membership

    lifecycles = list(
        LifecycleTemplate.objects.filter(slug__in=["ml-development-phases", "mlops-lifecycle"])
    )
    today = timezone.localdate()
    projects = []
    log(f"{args.projects} projects through phases.services.project_create")
    for i in range(args.projects):
        slug = {0: BIG, 1: SMALL}.get(i, f"{SLUG}-{i:05d}")
        project = services.project_create(
            lifecycle=lifecycles[i % len(lifecycles)],
            name=f"Bench project {i:05d}" if i > 1 else slug.replace("-", " ").title(),
            slug=slug,
            owner=users[f"bench-owner-{i % OWNERS}"],
            success_metric=METRIC,
            success_target=TARGET,
            start_date=today - dt.timedelta(days=30 + i % 300),
        )
        projects.append(project)
        if (i + 1) % 250 == 0:
            log(f"  {i + 1} projects")
    viewer, small = users["bench-viewer"], users["bench-small-viewer"]
    Membership.objects.bulk_create(
        [Membership(project=p, user=viewer, role=Role.VIEWER) for p in projects]
        + [
            Membership(project=p, user=small, role=Role.VIEWER)
            for p in projects[1 : 1 + args.small_projects]
        ]
    )
    return projects


def make_history(projects: list, users: dict) -> None:
    """Phase history through the services: three projects in five move on one to three
    phases (each gate completed first), one in ten loops back; then each project's
    transitions are spread over its months, as time would have spread them."""
    from phases import selectors as phase_selectors
    from phases import services
    from phases.choices import TaskStatus
    from phases.models import Phase, Transition

    log("phase history through phases.services (advance, move back)")
    for i, project in enumerate(projects):
        by = project.owner
        for _ in range((0, 1, 1, 2, 3)[i % 5]):
            project.refresh_from_db()
            phase = project.current_phase
            for task in phase.tasks.filter(required=True):
                services.task_set_status(task=task, status=TaskStatus.DONE, by=by)
            for outcome in phase.outcomes.filter(required=True):
                services.outcome_submit(
                    outcome=outcome, by=by, evidence_url="https://example.com/doc"
                )
                services.outcome_accept(outcome=outcome, by=by)
            services.phase_advance(project=project, by=by, reason="Gate met.")
        if i % 10 == 4:
            project.refresh_from_db()
            target = phase_selectors.back_targets(project=project).first()
            if target is not None:
                services.phase_move_back(
                    project=project, to_phase=target, by=by, reason="Error analysis: more data."
                )
        if (i + 1) % 250 == 0:
            log(f"  {i + 1} projects")
    now = dt.datetime.now(dt.UTC)
    for i, project in enumerate(projects):
        days = 30 + i % 300
        transitions = list(Transition.objects.filter(project=project).order_by("created_at", "id"))
        step = days / max(len(transitions), 1)
        for n, transition in enumerate(transitions):
            moment = now - dt.timedelta(days=days - n * step)
            Transition.objects.filter(pk=transition.pk).update(created_at=moment)
            Phase.objects.filter(pk=transition.to_phase_id, started_at__isnull=False).update(
                started_at=moment
            )


def make_runs(args: argparse.Namespace, projects: list) -> None:
    """Experiments, runs, tags, params, series, points and rollups, inside PostgreSQL.

    Two experiments per project share its runs. Each run logs three metrics over the same
    number of steps, with values from a formula of the run's id (so a series' latest value
    and its rollups can be computed in SQL): ``val_auc`` climbs to the run's quality,
    the losses fall.
    """
    from django.db import connection

    from experiments import models as em
    from experiments.points import CHUNK_MAX

    tables = {
        "experiment": em.Experiment._meta.db_table,
        "run": em.Run._meta.db_table,
        "tag": em.RunTag._meta.db_table,
        "param": em.Param._meta.db_table,
        "series": em.MetricSeries._meta.db_table,
        "chunk": em.MetricChunk._meta.db_table,
        "rollup": em.MetricRollup._meta.db_table,
    }
    per_series = max(1, args.points // (args.runs * len(KEYS)))
    counts = runs_per_project(args)
    ids = [p.pk for p in projects]
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        log("experiments, runs, tags and params")
        cursor.execute(
            f"""
            INSERT INTO {tables["experiment"]}
                (project_id, name, is_default, lifecycle_stage, artifact_location,
                 creation_time, last_update_time)
            SELECT p, e.name, false, 'active', '', {T0}, {T0}
            FROM unnest(%s::bigint[]) AS p CROSS JOIN (VALUES ('baseline'), ('sweep')) AS e(name);
            UPDATE {tables["experiment"]} SET artifact_location = 'mlflow-artifacts:/' || id
            WHERE project_id = ANY(%s);
            """,  # noqa: S608  (table names from the models; values are parameters)
            [ids, ids],
        )
        cursor.execute(
            f"""
            INSERT INTO {tables["run"]}
                (run_id, experiment_id, name, user_id, status, start_time, end_time,
                 lifecycle_stage, artifact_uri)
            SELECT md5(e.id || '-' || g), e.id, e.name || '-' || lpad(g::text, 4, '0'),
                   'bench', 'FINISHED', {T0} + g * 60000, {T0} + g * 60000 + 3600000, 'active',
                   'mlflow-artifacts:/' || e.id || '/' || md5(e.id || '-' || g) || '/artifacts'
            FROM {tables["experiment"]} AS e
            JOIN unnest(%s::bigint[], %s::int[]) AS c(project_id, n) USING (project_id)
            CROSS JOIN LATERAL generate_series(
                1, CASE WHEN e.name = 'baseline' THEN (c.n + 1) / 2 ELSE c.n / 2 END
            ) AS g
            ORDER BY e.id, g;
            """,  # noqa: S608
            [ids, counts],
        )
        bench_runs = (
            f"SELECT r.* FROM {tables['run']} r JOIN {tables['experiment']} e "  # noqa: S608
            f"ON e.id = r.experiment_id WHERE e.project_id = ANY(%s)"
        )
        cursor.execute(
            f"""
            INSERT INTO {tables["tag"]} (run_id, key, value)
            SELECT id, 'mlflow.runName', name FROM ({bench_runs}) AS r;
            INSERT INTO {tables["param"]} (run_id, key, value)
            SELECT r.id, k.key, CASE k.key
                WHEN 'learning_rate' THEN (10 ^ -(1 + mod(r.id, 4)))::text
                WHEN 'optimizer' THEN (ARRAY['adam', 'sgd', 'rmsprop'])[1 + mod(r.id, 3)]
                WHEN 'max_depth' THEN (3 + mod(r.id, 5))::text
                ELSE (2 ^ (5 + mod(r.id, 3)))::int::text END
            FROM ({bench_runs}) AS r
            CROSS JOIN (VALUES ('learning_rate'), ('optimizer'), ('max_depth'), ('batch_size'))
                AS k(key);
            """,  # noqa: S608
            [ids, ids],
        )
        # quality(run) in [0.5, 0.95); value(step) as below; the latest point is step n - 1.
        quality = "(0.5 + 0.45 * mod(r.id * 7919, 1000) / 1000.0)"
        formula = {
            METRIC: f"{quality} * (1 - exp(-(g + 1) / 6.0))",
            "loss": f"(1.5 - {quality}) * exp(-g / 10.0) + 0.05",
            "train_loss": f"0.8 * ((1.5 - {quality}) * exp(-g / 10.0) + 0.05)",
        }
        value = (
            "CASE s.key "
            + " ".join(f"WHEN '{key}' THEN {expression}" for key, expression in formula.items())
            + " END"
        )
        log(f"metric series: {len(KEYS)} per run, {per_series} or {per_series + 1} points each")
        # The first ``extra`` series (in id order) take one point more, so the total is
        # exactly --points; each series' latest point is then step point_count - 1.
        extra = args.points - per_series * args.runs * len(KEYS)
        cursor.execute(
            f"""
            WITH numbered AS (
                SELECT r.id, r.start_time, s.key,
                       row_number() OVER (ORDER BY r.id, s.key) AS n
                FROM ({bench_runs}) AS r
                CROSS JOIN (VALUES {", ".join(f"('{key}')" for key in KEYS)}) AS s(key)
            )
            INSERT INTO {tables["series"]}
                (run_id, key, latest_step, latest_timestamp, latest_value, latest_is_nan,
                 point_count)
            SELECT r.id, s.key, g, r.start_time + g * 1000, {value}, false, g + 1
            FROM numbered AS r
            CROSS JOIN LATERAL (SELECT r.key) AS s(key)
            CROSS JOIN LATERAL (
                SELECT {per_series - 1} + CASE WHEN r.n <= %s THEN 1 ELSE 0 END AS g
            ) AS latest
            ORDER BY r.id, s.key;
            """,  # noqa: S608
            [ids, extra],
        )
        cursor.execute(
            f"SELECT min(s.id), max(s.id) FROM {tables['series']} s "  # noqa: S608
            f"JOIN ({bench_runs}) AS r ON r.id = s.run_id",
            [ids],
        )
        low, high = cursor.fetchone()
        batch = max(1, 1_000_000 // per_series)
        total = args.points
        log(f"{total:,} metric points and their rollups, {batch:,} series at a time")
        started = time.perf_counter()
        for first in range(low, high + 1, batch):
            last = min(first + batch - 1, high)
            # The points once (as float8, the type they are stored in), then both what
            # ingest would write from them: chunks of CHUNK_MAX consecutive steps, packed
            # as experiments.points does (steps, timestamps, values, big-endian, which is
            # what int8send/float8send give), and each block's min/max rollup.
            cursor.execute(
                f"""
                WITH p AS MATERIALIZED (
                    SELECT s.id AS series_id, g::bigint AS step,
                           (r.start_time + g * 1000)::bigint AS ts, ({value})::float8 AS value
                    FROM {tables["series"]} AS s
                    JOIN {tables["run"]} AS r ON r.id = s.run_id
                    CROSS JOIN generate_series(0, s.point_count - 1) AS g
                    WHERE s.id BETWEEN %s AND %s
                ), chunks AS (
                    INSERT INTO {tables["chunk"]} (series_id, first_step, last_step, size, data)
                    SELECT series_id, min(step), max(step), count(*),
                        string_agg(int8send(step), ''::bytea ORDER BY step)
                        || string_agg(int8send(ts), ''::bytea ORDER BY step)
                        || string_agg(float8send(value), ''::bytea ORDER BY step)
                    FROM p
                    GROUP BY series_id, step / {CHUNK_MAX}
                    ORDER BY series_id, step / {CHUNK_MAX}
                )
                INSERT INTO {tables["rollup"]}
                    (series_id, bucket, min_step, min_timestamp, min_value,
                     max_step, max_timestamp, max_value)
                SELECT series_id, step >> {em.ROLLUP_SHIFT},
                    (array_agg(step ORDER BY value, step))[1],
                    (array_agg(ts ORDER BY value, step))[1], min(value),
                    (array_agg(step ORDER BY value DESC, step))[1],
                    (array_agg(ts ORDER BY value DESC, step))[1], max(value)
                FROM p
                GROUP BY series_id, step >> {em.ROLLUP_SHIFT}
                """,  # noqa: S608
                [first, last],
            )
            done = min((last - low + 1) * per_series, total)
            rate = done / (time.perf_counter() - started)
            log(f"  {done:,} of {total:,} points ({rate:,.0f}/s)")
        check_points(cursor, tables, value, low, high)


def check_points(cursor, tables: dict[str, str], value: str, low: int, high: int) -> None:
    """Read the first and the last generated series back with the app's own readers and
    compare them with the formula; check every chunk's size against its bytes."""
    from experiments import ingest, selectors
    from experiments.models import MetricRollup, MetricSeries
    from experiments.points import CHUNK_MAX
    from experiments.series import metric_series

    cursor.execute(
        f"""
        SELECT count(*), coalesce(sum(size), 0),
               coalesce(bool_and(size <= {CHUNK_MAX} AND octet_length(data) = 24 * size), true)
        FROM {tables["chunk"]} WHERE series_id BETWEEN %s AND %s
        """,  # noqa: S608
        [low, high],
    )
    chunks, stored, sound = cursor.fetchone()
    cursor.execute(
        f"SELECT sum(point_count) FROM {tables['series']} "  # noqa: S608
        "WHERE id BETWEEN %s AND %s",
        [low, high],
    )
    counted = cursor.fetchone()[0]
    assert sound and stored == counted, (chunks, stored, counted, sound)
    for series_id in sorted({low, high}):
        series = MetricSeries.objects.select_related("run").get(pk=series_id)
        cursor.execute(
            f"""
            SELECT g::bigint, (r.start_time + g * 1000)::bigint, ({value})::float8
            FROM {tables["series"]} AS s
            JOIN {tables["run"]} AS r ON r.id = s.run_id
            CROSS JOIN generate_series(0, s.point_count - 1) AS g
            WHERE s.id = %s ORDER BY g
            """,  # noqa: S608
            [series_id],
        )
        expected = list(zip(*cursor.fetchall(), strict=True))
        points = selectors.series_points(series_id)
        assert len(points) == series.point_count == len(expected[0]), series_id
        assert points.steps.tolist() == list(range(series.point_count)), series_id
        assert points.steps.tolist() == list(expected[0]), series_id
        assert points.timestamps.tolist() == list(expected[1]), series_id
        assert points.values.tolist() == list(expected[2]), series_id
        latest = ingest.latest_of(points)
        stored_latest = (
            series.latest_step,
            series.latest_timestamp,
            series.latest_value,
            series.latest_is_nan,
        )
        assert latest == stored_latest, (latest, stored_latest)
        rollups = list(
            MetricRollup.objects.filter(series_id=series_id)
            .order_by("bucket")
            .values_list(
                "series_id",
                "bucket",
                "min_step",
                "min_timestamp",
                "min_value",
                "max_step",
                "max_timestamp",
                "max_value",
            )
        )
        assert rollups == ingest._blocks(series_id, points), series_id
        chart = metric_series(run=series.run, key=series.key)
        assert chart.total_points == series.point_count, series_id
        # Steps are 0..n-1: a chart's points are the stored points at their steps.
        assert chart.timestamps == points.timestamps[chart.steps].tolist(), series_id
        assert chart.values == points.values[chart.steps].tolist(), series_id
        if not chart.downsampled:
            assert chart.steps == points.steps.tolist(), series_id
    log(
        f"  checked: {chunks:,} chunks hold {stored:,} points; series {low} and {high} "
        "read back as generated"
    )


def analyze() -> None:
    """Fresh planner statistics, as autovacuum would have them on a live database."""
    from django.db import connection

    log("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- Measurement ------------------------------------------------------------------------


@dataclass
class Result:
    page: str
    data: str
    median_ms: float
    p95_ms: float
    max_ms: float
    queries: int
    series_reads: int
    kilobytes: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class SeriesReads:
    """Counts the series a page asks ``experiments.series`` for, through its public readers
    (as ``tests/dashboard/test_experiments_queries.py`` does). Their chunks and rollups are
    read with ordinary queries, which Django's query log counts as well."""

    READERS = ("metric_series", "run_series", "compare")

    def __init__(self) -> None:
        from experiments import series

        self.module = series
        self.originals = {
            name: getattr(series, name) for name in self.READERS if hasattr(series, name)
        }
        self.count = 0

    def __enter__(self) -> SeriesReads:
        def counting(reader):
            def counted(*args, **kwargs):
                found = reader(*args, **kwargs)
                self.count += len(found) if isinstance(found, list) else 1
                return found

            return counted

        for name, original in self.originals.items():
            setattr(self.module, name, counting(original))
        return self

    def __exit__(self, *exc) -> None:
        for name, original in self.originals.items():
            setattr(self.module, name, original)


def measure_page(client, page: str, data: str, url: str, args: argparse.Namespace) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(args.warmup):
        assert client.get(url).status_code == 200, url
    times = []
    size = 0
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
        size = len(response.content)
    with CaptureQueriesContext(connection) as queries, SeriesReads() as reads:
        assert client.get(url).status_code == 200
    result = Result(
        page=page,
        data=data,
        median_ms=statistics.median(times),
        p95_ms=percentile(times, 0.95),
        max_ms=max(times),
        queries=len(queries),
        series_reads=reads.count,
        kilobytes=size / 1024,
    )
    log(f"  {page} ({data}): p95 {result.p95_ms:.1f} ms, {result.queries} queries")
    return result


def measure(args: argparse.Namespace) -> list[Result]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from experiments.models import MetricSeries, Run
    from phases.models import Project

    User = get_user_model()
    big = Project.objects.get(slug=BIG)
    small = Project.objects.get(slug=SMALL)
    best = list(
        MetricSeries.objects.filter(run__experiment__project=big, key=METRIC)
        .order_by("-latest_value", "run__start_time")
        .values_list("run__run_id", flat=True)[:5]
    )
    viewer = Client()
    viewer.force_login(User.objects.get(username="bench-viewer"))
    few = Client()
    few.force_login(User.objects.get(username="bench-small-viewer"))
    visible = Project.objects.filter(memberships__user__username="bench-small-viewer").count()
    everything = Project.objects.count()
    big_runs = Run.objects.filter(experiment__project=big).count()
    small_runs = Run.objects.filter(experiment__project=small).count()
    compare = reverse("dashboard:run-compare", args=[BIG]) + "?runs=" + ",".join(best)
    log(f"measuring: {args.warmup} warm-up and {args.requests} timed requests per page")
    pages = [
        (viewer, "portfolio", f"{everything:,} projects", reverse("dashboard:portfolio")),
        (few, "portfolio", f"baseline: {visible} projects", reverse("dashboard:portfolio")),
        (viewer, "project", f"{big_runs:,} runs", reverse("dashboard:project", args=[BIG])),
        (
            viewer,
            "project",
            f"baseline: {small_runs} runs",
            reverse("dashboard:project", args=[SMALL]),
        ),
        (
            viewer,
            "run",
            f"best of {big_runs:,} runs",
            reverse("dashboard:run", args=[BIG, best[0]]),
        ),
        (viewer, "compare", f"5 best of {big_runs:,} runs", compare),
    ]
    return [measure_page(client, page, data, url, args) for client, page, data, url in pages]


def report(results: list[Result], args: argparse.Namespace, totals: dict[str, int]) -> bool:
    print()
    print(
        f"Portfolio: {totals['projects']:,} projects, {totals['runs']:,} runs, "
        f"{totals['points']:,} metric points (PostgreSQL {totals['server']}). "
        f"{args.requests} requests per page after {args.warmup} warm-up, Django test Client, "
        "DEBUG off."
    )
    header = (
        f"| {'page':<9} | {'data':<26} | {'median ms':>9} | {'p95 ms':>7} | {'max ms':>7} "
        f"| {'queries':>7} | {'series':>11} | {'KB':>6} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for r in results:
        print(
            f"| {r.page:<9} | {r.data:<26} | {r.median_ms:>9.1f} | {r.p95_ms:>7.1f} | "
            f"{r.max_ms:>7.1f} | {r.queries:>7} | {r.series_reads:>11} | {r.kilobytes:>6.0f} |"
        )
    by = {(r.page, r.data.startswith("baseline")): r for r in results}
    ok = True
    print()
    for page in ("portfolio", "project"):
        large, base = by[(page, False)], by[(page, True)]
        fast = large.p95_ms < TARGET_P95_MS
        flat = (large.queries, large.series_reads) == (base.queries, base.series_reads)
        ok = ok and fast and flat
        print(
            f"{page}: p95 {large.p95_ms:.1f} ms {'<' if fast else '>='} {TARGET_P95_MS:.0f} ms "
            f"({'PASS' if fast else 'FAIL'}); queries {large.queries} ({large.series_reads} "
            f"series) vs baseline {base.queries} ({base.series_reads} series) "
            f"({'constant: PASS' if flat else 'GROWS: FAIL'})"
        )
    return ok


def totals() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM phases_project")
        projects = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM experiments_run")
        runs = cursor.fetchone()[0]
        # Exact and cheap: the ingest invariant keeps each series' point count.
        cursor.execute("SELECT coalesce(sum(point_count), 0) FROM experiments_metricseries")
        points = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return {"projects": projects, "runs": runs, "points": int(points), "server": server}


def main() -> int:
    args = arguments()
    if not args.measure_only:
        prepare_database(args)
    setup_django(args)
    if not args.measure_only:
        projects, runs = existing_size()
        if (projects, runs) == (args.projects, args.runs):
            log(f"{args.database} holds {projects:,} projects and {runs:,} runs: reusing it")
        elif projects:
            log(f"{args.database} holds another portfolio ({projects:,} projects): use --fresh")
            return 2
        else:
            generate(args)
    if args.generate_only:
        return 0
    results = measure(args)
    return 0 if report(results, args, totals()) else 1


if __name__ == "__main__":
    sys.exit(main())
