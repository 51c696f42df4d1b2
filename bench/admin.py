"""Admin benchmark: a demo project's change page, as its manager and as the superuser.

Why this exists: issue 11 found the project change page 5,600 px tall, with 4,000 DOM nodes
and 1.5 s to first byte, and asks for under 300 ms for a demo project. Timings on a shared
2-core machine would make tests flaky, so this runs by hand, never in the test suite:

    .venv/bin/python bench/admin.py             # about a minute, most of it loading the demo
    .venv/bin/python bench/admin.py --requests 50 --fresh

1. **Load** the demo portfolio (``manage.py demo_data``, the one ``make run`` shows) into
   its own PostgreSQL database (``--database``, default ``mlprojects_bench_admin``;
   created when missing, rebuilt with ``--fresh``, reused when it holds the demo).
2. **Measure** with Django's test ``Client`` (the whole middleware stack and templates,
   ``DEBUG`` off; the admin answers with one complete response, so the time to its first
   byte is the time to the whole page): after a warm-up, ``--requests`` requests per page,
   timed one by one; the median and 95th percentile, the SQL queries of one more request,
   the bytes of HTML and its elements (what the browser builds its DOM from). Pages: the
   change page of every demo project the ``manager`` user manages, as that manager and as
   the superuser ``admin``, and the project list as both. Target: p95 < 300 ms for every
   change page; the ratio column is p95 over that target.

Only 127.0.0.1 is contacted; the database is kept afterwards (``dropdb mlprojects_bench_admin``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from _production import start_django  # bench/_production.py: run as a script from bench/

REPO = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 300.0
PASSWORD = "bench-only-password"  # noqa: S105 - the demo users of a throwaway database


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="mlprojects_bench_admin")
    parser.add_argument("--fresh", action="store_true", help="drop and reload the database")
    args = parser.parse_args()
    if urlsplit(args.server).hostname not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("--server must be this machine's PostgreSQL")
    return args


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
    start_django(
        f"{args.server}/{args.database}",
        var="mlprojects-bench-admin",
        MLPROJECTS_DEMO_PASSWORD=PASSWORD,
    )
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    log("demo portfolio (manage.py demo_data --if-empty)")
    with open(os.devnull, "w") as quiet:
        call_command("demo_data", if_empty=True, force=True, verbosity=0, stdout=quiet)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def handle_starttag(self, tag, attrs) -> None:
        self.count += 1


def elements(html: str) -> int:
    parser = _Elements()
    parser.feed(html)
    return parser.count


@dataclass
class Result:
    page: str
    who: str
    median_ms: float
    p95_ms: float
    queries: int
    kilobytes: float
    elements: int

    @property
    def ratio(self) -> float:
        return self.p95_ms / TARGET_P95_MS


def measure_page(client, *, page: str, who: str, url: str, args) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(args.warmup):
        response = client.get(url)
        assert response.status_code == 200, (url, who, response.status_code)
    times = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    html = response.content.decode()
    times.sort()
    return Result(
        page=page,
        who=who,
        median_ms=statistics.median(times),
        p95_ms=times[max(0, round(0.95 * len(times)) - 1)],
        queries=len(queries),
        kilobytes=len(response.content) / 1024,
        elements=elements(html),
    )


def measure(args: argparse.Namespace) -> list[Result]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from phases.roles import managed_projects

    users = get_user_model().objects.in_bulk(["admin", "manager"], field_name="username")
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    results = []
    changelist = reverse("admin:phases_project_changelist")
    for who in ("manager", "admin"):
        results.append(
            measure_page(clients[who], page="project list", who=who, url=changelist, args=args)
        )
    for project in managed_projects(users["manager"]).order_by("name"):
        url = reverse("admin:phases_project_change", args=[project.pk])
        for who in ("manager", "admin"):
            log(f"{project.slug} as {who}")
            results.append(
                measure_page(clients[who], page=project.slug, who=who, url=url, args=args)
            )
    return results


def report(results: list[Result]) -> bool:
    head = (
        f"{'page':<34} {'as':<8} {'median':>8} {'p95':>8} {'p95/300':>8} {'queries':>8} "
        f"{'KiB':>6} {'elements':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.page:<34} {r.who:<8} {r.median_ms:>6.1f}ms {r.p95_ms:>6.1f}ms {r.ratio:>8.2f} "
            f"{r.queries:>8} {r.kilobytes:>6.0f} {r.elements:>9}"
        )
    changes = [r for r in results if r.page != "project list"]
    worst = max(changes, key=lambda r: r.p95_ms)
    ok = worst.p95_ms < TARGET_P95_MS
    print(
        f"\nslowest change page: {worst.page} as {worst.who}, p95 {worst.p95_ms:.1f} ms "
        f"({'under' if ok else 'OVER'} the {TARGET_P95_MS:.0f} ms target)"
    )
    return ok


def main() -> int:
    args = arguments()
    prepare_database(args)
    setup_django(args)
    return 0 if report(measure(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
