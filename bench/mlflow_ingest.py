"""Metric ingest benchmark: this server against a real MLflow tracking server, on one PostgreSQL.

Why this exists: issue 4 promises numbers that only a live comparison can back, so they are
measured here, by hand, never in the test suite (timings on a shared 2-core machine would
make tests flaky, and a full run takes a quarter of an hour):

1. ``runs/log-batch`` throughput, ours (gunicorn, the per-project tracking URI, a bearer
   token) against MLflow's own server (the pinned ``mlflow`` release, in a venv of its own),
   with the same pre-encoded bodies, the same client code and the same concurrency, each
   server warmed up first. Target: ours >= 10x MLflow's points per second. Server and
   PostgreSQL CPU per point is printed too: unlike wall-clock rates, it barely moves when
   other work shares the machine.
2. The native bulk path against raw PostgreSQL ``COPY`` of the same points into a minimal
   table (the ceiling). Target: >= 0.5x. Over HTTP (``POST /api/v1/runs/<run id>/metrics/``,
   CSV; a body refused with 413 is halved until it fits, and that is reported) when the
   server has the endpoint, and always in-process through ``services.log_batch``.
3. A retried 1000-metric log-batch on a run that already holds 200,000 points, against the
   same batch sent to an empty run, interleaved. Target: ratio ~1 (<= 1.25 passes).
4. A 1,000,000-point series answered downsampled to 2,000 points. Target: < 250 ms (median
   and p95 both judged). Over HTTP (``GET /api/v1/runs/<run id>/metrics/history/?key=&
   points=2000``) when served, and in-process through ``experiments.series.metric_series``.

Everything runs on this machine: two fresh databases (``bench_mlprojects``,
``bench_mlflow``) on the PostgreSQL of ``--pg``, both servers bound to 127.0.0.1, and no
traffic to any other address. Every loop is bounded in count and in time
(``--max-seconds``); servers are stopped (and the databases dropped unless ``--keep-dbs``)
on exit, Ctrl-C or failure. Before each timed phase the script waits (``--wait-quiet``)
for the rest of the machine to go quiet, and it reports how busy it was.

Run it with the app's venv, from the repository root (see bench/README.md):

    .venv/bin/python bench/mlflow_ingest.py --quick     # about two minutes
    .venv/bin/python bench/mlflow_ingest.py             # full size
    .venv/bin/python bench/mlflow_ingest.py --py-spy /tmp/mlflow-venv/bin/py-spy  # profiled

The MLflow server runs from ``--mlflow-venv`` (default /tmp/mlflow-venv), which is created
with ``BENCH_REQUIREMENTS`` (the "bench" extra: the pinned ``mlflow``, ``psycopg2-binary``,
``py-spy``) if it is missing, so it never touches the app's venv. Its job runner (huey
consumers for MLflow 3's GenAI jobs) is off: it has nothing to do with tracking and would
take CPU from the measured server.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
MLFLOW_VERSION = "3.17.2"  # the server matching the pinned mlflow test client
# The "bench" extra of pyproject.toml: what the MLflow venv gets (py-spy for --py-spy).
BENCH_REQUIREMENTS = (f"mlflow=={MLFLOW_VERSION}", "psycopg2-binary>=2.9,<3", "py-spy>=0.4,<0.5")
DEFAULT_MLFLOW_VENV = Path("/tmp/mlflow-venv")  # noqa: S108  (a venv, not a secret)
OUR_DB, MLFLOW_DB = "bench_mlprojects", "bench_mlflow"
PROJECT_SLUG = "bench"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
T0 = 1_700_000_000_000  # the first point's timestamp (ms); step n is logged at T0 + 10 n
KEYS = [f"m{k}" for k in range(64)]
PHASES = ("log-batch", "bulk", "retry", "series")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def value_at(run: int, step: int, k: int) -> float:
    """A deterministic, full-precision double, so a re-sent batch is the very same points."""
    return (
        math.sin(step * 0.001 + k) * math.exp(-step / 1e5)
        + ((run * 31 + step * 7919 + k) % 997) / 1e7
    )


def points_of(run: int, steps: range, metrics: int) -> Iterator[tuple[str, int, int, float]]:
    """(key, step, timestamp, value) of one run, step-major as a training loop logs them."""
    for step in steps:
        for k in range(metrics):
            yield KEYS[k], step, T0 + 10 * step, value_at(run, step, k)


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# --- Processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    log_path: Path

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Its own process group only (it was started in a new session)."""
        if self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


def start_server(name: str, command: list[str], env: dict, workdir: Path) -> Server:
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    log(f"started {name} (pid {process.pid}): {' '.join(command)}")
    return Server(name, process, log_path)


def wait_healthy(server: Server, host: str, port: int, path: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited early:\n{server.tail()}")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                log(f"{server.name} is healthy on {host}:{port}")
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{server.name} not healthy after {timeout:.0f}s:\n{server.tail()}")


def ensure_mlflow_venv(venv: Path) -> Path:
    """The venv's ``mlflow`` executable, creating the venv from the pinned release if needed."""
    mlflow = venv / "bin" / "mlflow"
    if mlflow.exists():
        return mlflow
    log(f"creating {venv} with {', '.join(BENCH_REQUIREMENTS)} (a few minutes, once)")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = str(venv / "bin" / "pip")
    subprocess.run([pip, "install", "--quiet", *BENCH_REQUIREMENTS], check=True)
    return mlflow


# --- CPU accounting (from /proc; approximate, Linux only) -------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stats() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds so far) of every visible process."""
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / _TICK)
    return stats


def _tree_cpu(stats: dict, root: int) -> float:
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _, _) in stats.items():
            if ppid == parent and pid not in members:
                members.add(pid)
                frontier.append(pid)
    return sum(stats[pid][2] for pid in members if pid in stats)


def _postgres_cpu(stats: dict, database: str) -> float:
    """CPU of the PostgreSQL backends connected to ``database`` (their title names it)."""
    total = 0.0
    for pid, (_, name, cpu) in stats.items():
        if not name.startswith("postgres"):
            continue
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if f" {database} " in title:
            total += cpu
    return total


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every process, every core)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK


@dataclass
class CpuSample:
    server: float
    postgres: float
    client: float
    machine: float

    @property
    def others(self) -> float:
        """Busy time of everything else on the machine (other engineers' test runs...)."""
        return max(0.0, self.machine - self.server - self.postgres - self.client)


def cpu_sample(server: Server | None, database: str) -> CpuSample:
    stats = _proc_stats()
    times = os.times()
    return CpuSample(
        server=_tree_cpu(stats, server.process.pid) if server else 0.0,
        postgres=_postgres_cpu(stats, database),
        client=times.user + times.system,
        machine=_machine_busy(),
    )


def cpu_delta(before: CpuSample, after: CpuSample) -> CpuSample:
    return CpuSample(
        after.server - before.server,
        after.postgres - before.postgres,
        after.client - before.client,
        after.machine - before.machine,
    )


# --- PostgreSQL -------------------------------------------------------------------------


@dataclass
class Pg:
    host: str
    port: int
    user: str

    def url(self, database: str, driver: str = "") -> str:
        """``driver``: SQLAlchemy 2.1 (in MLflow's venv) defaults to psycopg 3; ask for 2."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg2

        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=database)
        return conn

    def admin(self, statement: str) -> None:
        conn = self.connect()
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement)
        finally:
            conn.close()

    def recreate(self, database: str) -> None:
        self.drop(database)
        self.admin(f'CREATE DATABASE "{database}"')

    def drop(self, database: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- HTTP client, one for both servers --------------------------------------------------


class Client:
    """Plain ``http.client`` with one connection per thread: the least client CPU, since the
    client shares the two cores with both servers and PostgreSQL."""

    def __init__(self, base: str, prefix: str, token: str | None = None) -> None:
        parts = urlsplit(base)
        if parts.hostname not in LOOPBACK:
            raise ValueError(f"refusing to send traffic to {parts.hostname}: loopback only")
        self.host, self.port, self.prefix = parts.hostname, parts.port, prefix.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
        return conn

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, bytes]:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        for attempt in (1, 2):
            reused = getattr(self._local, "conn", None) is not None
            conn = self._conn()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                # A kept-alive connection the server closed while idle: once more on a
                # new one (as urllib3 does); any other failure is the caller's to see.
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def call(self, endpoint: str, payload: dict | None = None, method: str = "POST") -> dict:
        """An MLflow endpoint relative to the prefix; any answer but 200 is an error."""
        body = None if payload is None else json.dumps(payload).encode()
        status, data = self.request(method, f"{self.prefix}/{endpoint}", body)
        if status != 200:
            raise RuntimeError(f"{method} {endpoint}: {status} {data[:500]!r}")
        return json.loads(data or b"{}")

    def create_runs(self, experiment: str, count: int, name: str) -> list[str]:
        experiment_id = self.call("experiments/create", {"name": experiment})["experiment_id"]
        return [
            self.call(
                "runs/create",
                {"experiment_id": experiment_id, "run_name": f"{name}-{i}", "start_time": T0},
            )["run"]["info"]["run_id"]
            for i in range(count)
        ]


def batch_bodies(run_id: str, run: int, steps: range, metrics: int, batch: int) -> list[bytes]:
    points = list(points_of(run, steps, metrics))
    return [
        json.dumps(
            {
                "run_id": run_id,
                "metrics": [
                    {"key": key, "value": value, "timestamp": ts, "step": step}
                    for key, step, ts, value in chunk
                ],
            }
        ).encode()
        for chunk in chunks(points, batch)
    ]


# --- Results ----------------------------------------------------------------------------


@dataclass
class Throughput:
    points: int
    seconds: float
    latencies: list[float]
    cpu: CpuSample
    complete: bool
    error: str = ""

    @property
    def rate(self) -> float:
        return self.points / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_million(self) -> float:
        """Server and PostgreSQL CPU seconds per million points: what contention on the
        shared machine does not change."""
        return (self.cpu.server + self.cpu.postgres) * 1e6 / self.points if self.points else 0.0

    @property
    def others_cores(self) -> float:
        return self.cpu.others / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        lat = ""
        if self.latencies:
            lat = (
                f", request p50 {statistics.median(self.latencies) * 1e3:.1f} ms"
                f" p95 {percentile(self.latencies, 95) * 1e3:.1f} ms"
            )
        per_m = 1e6 / self.points if self.points else 0.0
        cpu = (
            f"; CPU s per 1M points: server {self.cpu.server * per_m:.1f}, "
            f"postgres {self.cpu.postgres * per_m:.1f}, client {self.cpu.client * per_m:.1f}, "
            f"other processes {self.cpu.others * per_m:.1f}"
        )
        cpu += f"; other work on the machine: {self.others_cores:.2f} cores on average"
        state = "" if self.complete else f" (INCOMPLETE: {self.error or 'time limit'})"
        return (
            f"{self.points:,} points in {self.seconds:.2f} s = {self.rate:,.0f} points/s"
            f"{lat}{cpu}{state}"
        )


@dataclass
class Row:
    measure: str
    ours: str
    baseline: str
    target: str
    verdict: str


@dataclass
class Summary:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, measure, ours, baseline="", target="", passed: bool | None = None) -> None:
        verdict = "info" if passed is None else ("PASS" if passed else "FAIL")
        self.rows.append(Row(measure, ours, baseline, target, verdict))

    def render(self) -> str:
        header = Row("measure", "ours", "baseline (same run)", "target", "result")
        table = [header, *self.rows]
        widths = [max(len(getattr(r, f)) for r in table) for f in Row.__dataclass_fields__]

        def line(row: Row) -> str:
            cells = [getattr(row, f) for f in Row.__dataclass_fields__]
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(header), rule, *(line(r) for r in self.rows)])


# --- The benchmark ----------------------------------------------------------------------


def drive(
    client: Client,
    work: list[list[bytes]],
    points_per_body: list[list[int]],
    deadline: float,
    server: Server,
    database: str,
    path: str,
) -> Throughput:
    """Each thread sends its own bodies in order (its own runs, as a training job would)."""
    stop = threading.Event()
    barrier = threading.Barrier(len(work) + 1)
    done = [0] * len(work)
    latencies: list[list[float]] = [[] for _ in work]
    errors: list[str] = []

    def worker(index: int) -> None:
        barrier.wait()
        for body, count in zip(work[index], points_per_body[index], strict=True):
            if stop.is_set() or time.monotonic() > deadline:
                return
            start = time.perf_counter()
            try:
                status, data = client.request("POST", path, body)
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
                stop.set()
                return
            latencies[index].append(time.perf_counter() - start)
            if status != 200:
                errors.append(f"HTTP {status}: {data[:300]!r}")
                stop.set()
                return
            done[index] += count

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(work))]
    for thread in threads:
        thread.start()
    before = cpu_sample(server, database)
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic() + 300))
    seconds = time.perf_counter() - start
    after = cpu_sample(server, database)
    total = sum(sum(c) for c in points_per_body)
    return Throughput(
        points=sum(done),
        seconds=seconds,
        latencies=[x for per in latencies for x in per],
        cpu=cpu_delta(before, after),
        complete=sum(done) == total and not errors,
        error="; ".join(errors[:3]),
    )


class Profiler:
    """``py-spy record`` of a server's process tree during one phase (``--py-spy``)."""

    def __init__(self, py_spy: str, server: Server, out: Path) -> None:
        self.out = out
        self.process = subprocess.Popen(
            [py_spy, "record", "--pid", str(server.process.pid), "--subprocesses",
             "--nonblocking", "--rate", "100", "--format", "raw", "--output", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        time.sleep(2)  # let it attach before the phase starts

    # Request handling, ours and MLflow's: samples outside these are idle or start-up.
    BUSY = ("WSGIHandler.__call__", "Flask.wsgi_app")
    PLUMBING = (
        "gunicorn/", "django/core/handlers", "django/utils/deprecation", "contextlib",
        "whitenoise/", "starlette/", "anyio/", "uvicorn/", "flask/app.py", "threading.py",
        "runpy", "importlib", "csrf.py", "generic/base.py", "api/middleware.py",
    )  # fmt: skip
    CATEGORIES = (
        ("database round trips (execute, COPY, commit)", ("CursorWrapper._execute",
         "psycopg2", "do_execute", "_commit", "do_commit", "copy_expert", "is_usable",
         "do_ping", "executemany", "_exec_insertmany")),
        ("JSON / protobuf parsing", ("json/", "protobuf/")),
        ("Django ORM building queries", ("django/db/",)),
        ("SQLAlchemy ORM", ("sqlalchemy/",)),
        ("DRF and Django request handling", ("rest_framework/", "django/")),
        ("project code", ("api/", "experiments/", "mlprojects/", "phases/")),
        ("mlflow code", ("mlflow/",)),
    )  # fmt: skip

    def stop_and_summarize(self, top: int = 25) -> str:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if not self.out.exists():
            return "py-spy wrote nothing (is ptrace allowed?)"
        inclusive: dict[str, int] = {}
        own: dict[str, int] = {}
        busy = idle = 0
        for line in self.out.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
            if not frames or not any(m in stack for m in self.BUSY):
                idle += int(count)
                continue
            busy += int(count)
            for frame in set(frames):
                if not any(p in frame for p in self.PLUMBING):
                    inclusive[frame] = inclusive.get(frame, 0) + int(count)
            own[frames[-1]] = own.get(frames[-1], 0) + int(count)
        if not busy:
            return f"py-spy: no request-handling samples ({idle} others) in {self.out}"
        categories: dict[str, int] = {}
        for frame, n in own.items():
            name = next(
                (c for c, marks in self.CATEGORIES if any(m in frame for m in marks)), "other"
            )
            categories[name] = categories.get(name, 0) + n

        def rank(table: dict[str, int], limit: int = top) -> list[str]:
            best = sorted(table.items(), key=lambda kv: -kv[1])[:limit]
            return [f"  {100 * n / busy:5.1f}%  {f[:140]}" for f, n in best]

        return "\n".join(
            [
                f"py-spy: {busy} samples handling requests (+{idle} idle or other); raw stacks "
                f"in {self.out}",
                "where request time goes (innermost frame, grouped):",
                *rank(categories),
                "inclusive (the frame and what it calls; server plumbing left out):",
                *rank(inclusive),
                "self (innermost frame):",
                *rank(own, 15),
            ]
        )


QUIET = {"cores": 0.3, "limit": 60.0}  # set from --quiet-cores and --wait-quiet


def settle(server: Server | None = None) -> None:
    """Wait until the server's processes are idle (MLflow keeps importing after /health)
    and the rest of the machine is quiet (under ``--quiet-cores`` busy: other people's test
    runs share these two cores), up to ``--wait-quiet`` seconds; then measure anyway."""
    deadline = time.monotonic() + QUIET["limit"]
    others = 0.0
    while True:
        tree = _tree_cpu(_proc_stats(), server.process.pid) if server else 0.0
        busy, own = _machine_busy(), sum(os.times()[:2])
        time.sleep(2)
        tree = (_tree_cpu(_proc_stats(), server.process.pid) if server else 0.0) - tree
        others = (_machine_busy() - busy - tree - (sum(os.times()[:2]) - own)) / 2
        if tree < 0.1 and others < QUIET["cores"]:
            return
        if time.monotonic() > deadline:
            break
    log(f"still busy after {QUIET['limit']:.0f}s (others: {others:.1f} cores); measuring anyway")


def warm_up(client: Client, server: Server, label: str, database: str, args) -> None:
    """A few untimed batches from every thread, so each worker has imported, connected and
    prepared what it needs before the clock starts; the same for both servers."""
    settle(server)
    runs = client.create_runs(f"warm-up-{label}", args.threads, "warm-up")
    steps = range(3 * args.batch // args.metrics)
    work = [batch_bodies(r, i, steps, args.metrics, args.batch) for i, r in enumerate(runs)]
    counts = [[args.batch] * len(bodies) for bodies in work]
    path = f"{client.prefix}/runs/log-batch"
    result = drive(client, work, counts, time.monotonic() + 600, server, database, path)
    if not result.complete:
        raise RuntimeError(f"{label}: warm-up failed: {result.error}")
    log(f"{label}: warmed up ({result.describe()})")


def log_batch_phase(
    client: Client, server: Server, label: str, database: str, workdir: Path, args
) -> Throughput:
    warm_up(client, server, label, database, args)
    log(f"{label}: creating {args.runs} runs")
    run_ids = client.create_runs(f"log-batch-{label}", args.runs, label)
    log(f"{label}: encoding {args.runs * args.steps * args.metrics:,} points")
    work: list[list[bytes]] = [[] for _ in range(args.threads)]
    counts: list[list[int]] = [[] for _ in range(args.threads)]
    for run, run_id in enumerate(run_ids):
        bodies = batch_bodies(run_id, run, range(args.steps), args.metrics, args.batch)
        work[run % args.threads] += bodies
        total = args.steps * args.metrics
        sizes = [min(args.batch, total - i) for i in range(0, total, args.batch)]
        counts[run % args.threads] += sizes
    log(f"{label}: sending {sum(map(len, work))} log-batch requests from {args.threads} threads")
    settle(server)
    profiler = None
    if args.py_spy:
        profiler = Profiler(args.py_spy, server, workdir / f"py-spy-{label}.txt")
    try:
        result = drive(
            client,
            work,
            counts,
            time.monotonic() + args.max_seconds,
            server,
            database,
            f"{client.prefix}/runs/log-batch",
        )
    finally:
        if profiler:
            print(profiler.stop_and_summarize(), flush=True)
    log(f"{label}: {result.describe()}")
    return result


def copy_ceiling(pg: Pg, args, with_index: bool) -> float:
    """Raw COPY of the log-batch workload's points into a minimal table: the ceiling."""
    text = io.StringIO()
    for run in range(args.runs):
        for key, step, ts, value in points_of(run, range(args.steps), args.metrics):
            text.write(f"{run}\t{key}\t{step}\t{ts}\t{value!r}\n")
    data = text.getvalue()
    total = args.runs * args.steps * args.metrics
    conn = pg.connect(OUR_DB)
    rates = []
    try:
        with conn.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_copy_points")
            key = ", PRIMARY KEY (run_id, key, step, ts, value)" if with_index else ""
            cursor.execute(
                "CREATE TABLE bench_copy_points (run_id int, key text, step bigint, ts bigint, "
                f"value float8{key})"
            )
            conn.commit()
            for _ in range(args.copy_repeats):
                cursor.execute("TRUNCATE bench_copy_points")
                conn.commit()
                start = time.perf_counter()
                cursor.copy_expert("COPY bench_copy_points FROM STDIN", io.StringIO(data))
                conn.commit()
                rates.append(total / (time.perf_counter() - start))
            cursor.execute("DROP TABLE bench_copy_points")
            conn.commit()
    finally:
        conn.close()
    rate = statistics.median(rates)
    label = "with a primary key" if with_index else "minimal table"
    log(f"raw COPY ({label}): {total:,} points, median of {len(rates)}: {rate:,.0f} points/s")
    return rate


def native_csv(points: list[tuple[str, int, int, float]]) -> bytes:
    lines = ["key,step,timestamp,value"]
    lines += [f"{key},{step},{ts},{value!r}" for key, step, ts, value in points]
    return ("\n".join(lines) + "\n").encode()


def native_http(client: Client, run_id: str, args) -> tuple[float | None, str]:
    """POST /api/v1/runs/<run id>/metrics/ with CSV bodies, if the server has it. A body
    refused as too large (413) is split in halves, the total kept, and the size noted."""
    path = f"/api/v1/runs/{run_id}/metrics/"
    status, data = client.request("POST", path, native_csv([("probe", 0, T0, 1.0)]), "text/csv")
    if status in (404, 405):
        return None, f"no native endpoint yet (probe: HTTP {status})"
    if status not in (200, 201):
        return None, f"native endpoint refused the probe: HTTP {status} {data[:300]!r}"
    per, requests, note = args.native_points, args.native_requests, ""
    while True:
        steps_per = per // args.metrics
        bodies = [
            native_csv(list(points_of(0, range(i * steps_per, (i + 1) * steps_per), args.metrics)))
            for i in range(requests)
        ]
        start = time.perf_counter()
        for body in bodies:
            try:
                status, data = client.request("POST", path, body, "text/csv")
            except (BrokenPipeError, ConnectionResetError):
                # The server answered before reading the body, as a size limit does.
                status, data = 413, b"connection closed while the body was being sent"
            if status not in (200, 201):
                break
        else:
            rate = per * requests / (time.perf_counter() - start)
            size = sum(map(len, bodies)) / len(bodies) / 2**20
            return rate, f"HTTP CSV, {requests} x {per:,} points ({size:.1f} MiB each){note}"
        if status != 413 or per <= 5_000:
            return None, f"native endpoint failed: HTTP {status} {data[:300]!r}"
        note = f"; {args.native_points:,}-point bodies refused with 413 ({data[:120]!r})"
        per, requests = per // 2, requests * 2
        log(f"native: HTTP 413, trying {requests} x {per:,} points")


def native_in_process(run_id: str, args) -> float:
    """``services.log_batch`` with large batches: the service a native endpoint would call
    (validation, the series upsert, COPY to staging and the insert); bodies pre-parsed."""
    from experiments import services
    from experiments.models import Run

    run = Run.objects.get(run_id=run_id)
    per = args.native_points
    steps_per = per // args.metrics
    batches = [
        [
            services.MetricIn(key, value, ts, step)
            for key, step, ts, value in points_of(
                1, range(i * steps_per, (i + 1) * steps_per), args.metrics
            )
        ]
        for i in range(args.native_requests)
    ]
    start = time.perf_counter()
    for metrics in batches:
        services.log_batch(run=run, by=None, metrics=metrics)
    return sum(map(len, batches)) / (time.perf_counter() - start)


def load_in_process(run_id: str, points: int, metrics: int, chunk: int = 100_000) -> float:
    """Fill a run through the ingest service; returns points/s."""
    from experiments import services
    from experiments.models import Run

    run = Run.objects.get(run_id=run_id)
    steps = points // metrics
    start = time.perf_counter()
    for first in range(0, steps, chunk // metrics):
        block = range(first, min(steps, first + chunk // metrics))
        services.log_batch(
            run=run,
            by=None,
            metrics=[
                services.MetricIn(k, v, ts, s) for k, s, ts, v in points_of(0, block, metrics)
            ],
        )
    return steps * metrics / (time.perf_counter() - start)


def retry_phase(client: Client, args) -> tuple[float, float, float]:
    """Medians (ms) of: the batch re-sent to a run holding ``retry_points`` points (the batch
    among them); the same batch sent once to each of fresh empty runs; the batch re-sent to a
    run holding only it. Interleaved, so drift hits all three alike."""
    repeats = args.retry_repeats
    full, small, *empties = client.create_runs("retry", repeats + 2, "retry")
    rate = load_in_process(full, args.retry_points, args.metrics)
    log(f"retry: loaded {args.retry_points:,} points in-process at {rate:,.0f} points/s")
    batch_steps = range(args.batch // args.metrics)

    def body(run_id: str) -> bytes:
        return batch_bodies(run_id, 0, batch_steps, args.metrics, args.batch)[0]

    path = f"{client.prefix}/runs/log-batch"

    def timed(run_id: str) -> float:
        data = body(run_id)
        start = time.perf_counter()
        status, answer = client.request("POST", path, data)
        elapsed = time.perf_counter() - start
        if status != 200:
            raise RuntimeError(f"log-batch: {status} {answer[:300]!r}")
        return elapsed

    timed(small)  # the only send that stores anything in this run
    deadline = time.monotonic() + args.max_seconds
    on_full, on_empty, on_small = [], [], []
    for empty in empties:
        if time.monotonic() > deadline:
            break
        on_full.append(timed(full))
        on_empty.append(timed(empty))
        on_small.append(timed(small))
    medians = [statistics.median(x) * 1e3 for x in (on_full, on_empty, on_small)]
    log(
        f"retry: {len(on_full)} rounds; median ms: retry on {args.retry_points:,}-point run "
        f"{medians[0]:.2f}, first send on an empty run {medians[1]:.2f}, retry on a "
        f"{args.batch}-point run {medians[2]:.2f}"
    )
    return medians[0], medians[1], medians[2]


def timed_calls(fetch: Callable[[], object], args) -> list[float]:
    """One untimed warm-up call, then ``series_repeats`` timed ones (bounded in time)."""
    fetch()
    samples = []
    deadline = time.monotonic() + args.max_seconds
    for _ in range(args.series_repeats):
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        fetch()
        samples.append(time.perf_counter() - start)
    return samples


def downsample_phase(
    mlflow_api: Client, client: Client, args
) -> tuple[list[float], str, list[float]]:
    """Timings (s) of the downsampled series over HTTP (if served; with how it was asked)
    and in-process through ``experiments.series.metric_series``."""
    (run_id,) = mlflow_api.create_runs("series", 1, "series")
    rate = load_in_process(run_id, args.series_points, 1)
    log(f"series: loaded {args.series_points:,} points in-process at {rate:,.0f} points/s")
    key, points = KEYS[0], args.series_points_out
    http_samples, how = [], "no history endpoint answered"
    for path in (
        f"/api/v1/runs/{run_id}/metrics/history/?key={key}&points={points}",
        f"/api/v1/runs/{run_id}/metrics/{key}/history/?points={points}",
    ):
        status, data = client.request("GET", path)
        if status != 200:
            continue
        answer = json.loads(data)
        log(
            f"series: HTTP answer has {len(answer.get('steps', []))} points of "
            f"{answer.get('total_points')} (downsampled={answer.get('downsampled')})"
        )

        def fetch(path: str = path) -> object:
            status, data = client.request("GET", path)
            if status != 200:
                raise RuntimeError(f"history: {status} {data[:300]!r}")
            return data

        how = f"HTTP GET {path.replace(run_id, '<run id>')}"
        http_samples = timed_calls(fetch, args)
        log(
            f"series: {len(http_samples)} HTTP calls, median "
            f"{statistics.median(http_samples) * 1e3:.1f} ms, "
            f"p95 {percentile(http_samples, 95) * 1e3:.1f} ms ({how})"
        )
        break
    local: list[float] = []
    try:
        from experiments.series import metric_series
    except ImportError:
        return http_samples, how, local
    from experiments.models import Run

    run = Run.objects.get(run_id=run_id)
    found = metric_series(run=run, key=key, max_points=points)
    log(
        f"series: in-process answer has {len(found.steps)} points of {found.total_points:,} "
        f"(downsampled={found.downsampled})"
    )
    local = timed_calls(lambda: metric_series(run=run, key=key, max_points=points), args)
    log(
        f"series: {len(local)} in-process calls, median {statistics.median(local) * 1e3:.1f} "
        f"ms, p95 {percentile(local, 95) * 1e3:.1f} ms"
    )
    return http_samples, how, local


def setup_django(env: dict) -> tuple[str, int]:
    """Point this process at the bench database and make a user, a project and a token."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlprojects.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from api.services import token_create
    from phases.models import LifecycleTemplate
    from phases.services import project_create

    user = get_user_model().objects.create_user(username="bench", password=None)
    lifecycle = LifecycleTemplate.objects.order_by("pk").first()
    project = project_create(lifecycle=lifecycle, name="Bench", owner=user, slug=PROJECT_SLUG)
    _, secret = token_create(user=user, name="bench", project=project)
    return secret, project.pk


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark metric ingest against a real MLflow server (see the docstring).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    size = parser.add_argument_group("workload sizes")
    size.add_argument("--runs", type=int, default=100)
    size.add_argument("--steps", type=int, default=1000)
    size.add_argument("--metrics", type=int, default=5, help="metric keys logged at each step")
    size.add_argument("--batch", type=int, default=1000, help="metrics per log-batch request")
    size.add_argument("--threads", type=int, default=4, help="client threads")
    size.add_argument("--copy-repeats", type=int, default=3)
    size.add_argument("--native-points", type=int, default=100_000, help="points per request")
    size.add_argument("--native-requests", type=int, default=5)
    size.add_argument("--retry-points", type=int, default=200_000)
    size.add_argument("--retry-repeats", type=int, default=50)
    size.add_argument("--series-points", type=int, default=1_000_000)
    size.add_argument("--series-points-out", type=int, default=2000)
    size.add_argument("--series-repeats", type=int, default=20)
    size.add_argument(
        "--quick",
        action="store_true",
        help="small sizes to check the set-up: 10 runs x 200 steps, 20k/100k-point runs",
    )
    servers = parser.add_argument_group("servers")
    servers.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="gunicorn workers for our server",
    )
    servers.add_argument("--mlflow-workers", type=int, default=4)
    servers.add_argument(
        "--mlflow-venv",
        type=Path,
        default=DEFAULT_MLFLOW_VENV,
        help=f"venv with mlflow=={MLFLOW_VERSION}; created if missing",
    )
    servers.add_argument(
        "--mlflow-command",
        default="",
        help="the MLflow executable, instead of <mlflow-venv>/bin/mlflow",
    )
    servers.add_argument(
        "--phases",
        type=lambda text: {part.strip() for part in text.split(",") if part.strip()},
        default=set(PHASES),
        help=f"comma-separated, of {', '.join(PHASES)}",
    )
    servers.add_argument(
        "--skip-mlflow", action="store_true", help="no MLflow server: the ratio is not measured"
    )
    servers.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432",
        help="the PostgreSQL server (loopback only)",
    )
    servers.add_argument(
        "--py-spy",
        default="",
        help="a py-spy executable: profile both servers during the log-batch phase",
    )
    servers.add_argument(
        "--quiet-cores",
        type=float,
        default=0.3,
        help="before each timed phase, wait until other processes use fewer cores than this",
    )
    servers.add_argument(
        "--wait-quiet", type=float, default=60, help="how long to wait for that (s)"
    )
    servers.add_argument("--keep-dbs", action="store_true", help="leave the two databases")
    servers.add_argument(
        "--max-seconds", type=float, default=1200, help="time limit of each timed phase"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.steps = 10, 200
        args.native_points, args.native_requests = 20_000, 3
        args.retry_points, args.retry_repeats = 20_000, 10
        args.series_points, args.series_repeats = 100_000, 5
        args.copy_repeats = 1
    if not args.phases or args.phases - set(PHASES):
        parser.error(f"--phases takes some of {', '.join(PHASES)}")
    if args.batch % args.metrics:
        parser.error("--batch must be a multiple of --metrics")
    if not 1 <= args.metrics <= len(KEYS):
        parser.error(f"--metrics must be 1..{len(KEYS)}")
    return args


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    QUIET.update(cores=args.quiet_cores, limit=args.wait_quiet)
    parts = urlsplit(args.pg)
    if parts.hostname not in LOOPBACK:
        raise SystemExit("--pg must be a PostgreSQL on this machine (127.0.0.1)")
    pg = Pg(parts.hostname, parts.port or 5432, parts.username or "postgres")
    workdir = Path(tempfile.mkdtemp(prefix="mlflow-ingest-"))
    servers: list[Server] = []
    signal.signal(signal.SIGTERM, _interrupt)
    summary = Summary()
    log(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"logs and scratch in {workdir}"
    )
    try:
        return run(args, pg, workdir, servers, summary)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for server in reversed(servers):
            server.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110  (Django may never have been set up)
            pass
        if not args.keep_dbs:
            for database in (OUR_DB, MLFLOW_DB):
                try:
                    pg.drop(database)
                except Exception as error:
                    log(f"could not drop {database}: {error}")
        log(f"stopped {len(servers)} servers{'' if args.keep_dbs else ', dropped the databases'}")


def run(args, pg: Pg, workdir: Path, servers: list[Server], summary: Summary) -> int:
    # 1. Databases and servers.
    pg.recreate(OUR_DB)
    if not args.skip_mlflow and "log-batch" in args.phases:
        pg.recreate(MLFLOW_DB)
    env = {
        **os.environ,
        "DATABASE_URL": pg.url(OUR_DB),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "API_THROTTLE_TOKEN": "100000000/min",
        "DJANGO_LOG_LEVEL": "WARNING",
        "MLPROJECTS_VAR_DIR": str(workdir / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    (workdir / "var").mkdir()
    log(f"migrating {OUR_DB}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True
    )
    ours_port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    ours = start_server(
        "ours",
        [
            gunicorn,
            "mlprojects.wsgi:application",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{ours_port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        env,
        workdir,
    )
    servers.append(ours)
    mlflow_server = None
    if not args.skip_mlflow and "log-batch" in args.phases:
        mlflow = (
            Path(args.mlflow_command)
            if args.mlflow_command
            else ensure_mlflow_venv(args.mlflow_venv)
        )
        python = mlflow.with_name("python")
        log(f"creating MLflow's schema in {MLFLOW_DB}")
        subprocess.run(
            [
                str(python),
                "-c",
                "import sys; from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore; "
                "SqlAlchemyStore(sys.argv[1], sys.argv[2])",
                pg.url(MLFLOW_DB, driver="psycopg2"),
                (workdir / "mlartifacts").as_uri(),
            ],
            check=True,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
        )
        mlflow_port = free_port()
        mlflow_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
        # Tracking only: MLflow 3's job runner (huey consumers for GenAI jobs) would import
        # and poll in the background, taking CPU from the measured server.
        mlflow_env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        mlflow_server = start_server(
            "mlflow",
            [
                str(mlflow),
                "server",
                "--backend-store-uri",
                pg.url(MLFLOW_DB, driver="psycopg2"),
                "--default-artifact-root",
                (workdir / "mlartifacts").as_uri(),
                "--no-serve-artifacts",
                "--host",
                "127.0.0.1",
                "--port",
                str(mlflow_port),
                "--workers",
                str(args.mlflow_workers),
                "--allowed-hosts",
                "127.0.0.1:*,localhost:*",
            ],
            mlflow_env,
            workdir,
        )
        servers.append(mlflow_server)
    secret, _ = setup_django(env)
    wait_healthy(ours, "127.0.0.1", ours_port, "/healthz")
    if mlflow_server:
        wait_healthy(mlflow_server, "127.0.0.1", mlflow_port, "/health")
        version = subprocess.run(
            [str(mlflow), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        summary.notes.append(f"MLflow server: {version}, {args.mlflow_workers} workers (uvicorn)")
    summary.notes.append(f"our server: gunicorn, {args.workers} sync workers, DEBUG off")

    base = f"http://127.0.0.1:{ours_port}"
    ours_client = Client(base, f"/projects/{PROJECT_SLUG}/api/2.0/mlflow", secret)
    api_client = Client(base, "", secret)
    workload = f"{args.runs} runs x {args.steps} steps x {args.metrics} metrics"
    workload += f", {args.batch}/batch, {args.threads} threads"

    # 2. log-batch, ours and MLflow's, one after the other.
    if "log-batch" in args.phases:
        mine = log_batch_phase(ours_client, ours, "ours", OUR_DB, workdir, args)
        theirs = None
        if mlflow_server:
            mlflow_client = Client(f"http://127.0.0.1:{mlflow_port}", "/api/2.0/mlflow")
            theirs = log_batch_phase(
                mlflow_client, mlflow_server, "mlflow", MLFLOW_DB, workdir, args
            )
        if theirs and theirs.rate:
            ratio = mine.rate / theirs.rate
            ok = ratio >= 10 and mine.complete and theirs.complete
            summary.add(f"log-batch points/s ({workload})", f"{mine.rate:,.0f}",
                        f"MLflow {theirs.rate:,.0f}", ">= 10x MLflow", None)  # fmt: skip
            summary.add("log-batch ratio ours/MLflow", f"{ratio:.1f}x", "", ">= 10x", ok)
            summary.add("log-batch server+PostgreSQL CPU s per 1M points",
                        f"{mine.cpu_per_million:.1f}", f"MLflow {theirs.cpu_per_million:.1f}",
                        "", None)  # fmt: skip
            efficiency = theirs.cpu_per_million / mine.cpu_per_million
            summary.add("log-batch CPU efficiency ours/MLflow (contention-free view)",
                        f"{efficiency:.1f}x", "", ">= 10x", None)  # fmt: skip
        else:
            summary.add(f"log-batch points/s ({workload})", f"{mine.rate:,.0f}", "not measured",
                        ">= 10x MLflow", None)  # fmt: skip
            summary.add("log-batch server+PostgreSQL CPU s per 1M points",
                        f"{mine.cpu_per_million:.1f}", "", "", None)  # fmt: skip
        summary.notes.append(f"log-batch ours: {mine.describe()}")
        if theirs:
            summary.notes.append(f"log-batch MLflow: {theirs.describe()}")

    # 3. Raw COPY ceiling and the native path.
    if "bulk" in args.phases:
        settle()
        ceiling = copy_ceiling(pg, args, with_index=False)
        indexed = copy_ceiling(pg, args, with_index=True)
        (native_run, service_run) = ours_client.create_runs("native", 2, "native")
        http_rate, how = native_http(api_client, native_run, args)
        log(f"native over HTTP: {how}" + (f": {http_rate:,.0f} points/s" if http_rate else ""))
        service_rate = native_in_process(service_run, args)
        log(f"native in-process (services.log_batch): {service_rate:,.0f} points/s")
        copied = f"{args.runs * args.steps * args.metrics:,} points"
        summary.add(f"raw COPY points/s, minimal table ({copied})", f"{ceiling:,.0f}", "",
                    "the ceiling", None)  # fmt: skip
        summary.add("raw COPY points/s, same table with a primary key", f"{indexed:,.0f}", "",
                    "", None)  # fmt: skip
        if http_rate:
            summary.add("native bulk points/s, HTTP CSV", f"{http_rate:,.0f}",
                        f"COPY {ceiling:,.0f}", ">= 0.5x COPY", None)  # fmt: skip
            summary.add("native bulk / raw COPY", f"{http_rate / ceiling:.2f}x", "", ">= 0.5x",
                        http_rate / ceiling >= 0.5)  # fmt: skip
            summary.notes.append(f"native bulk: {how}")
        else:
            summary.notes.append(f"native bulk over HTTP not measured: {how}")
        judged = not http_rate  # in-process stands in for the endpoint only when there is none
        summary.add(f"ingest service in-process points/s ({args.native_requests} x "
                    f"{args.native_points:,})", f"{service_rate:,.0f}", f"COPY {ceiling:,.0f}",
                    ">= 0.5x COPY" if judged else "", None)  # fmt: skip
        verdict = service_rate / ceiling >= 0.5 if judged else None
        summary.add("ingest service in-process / raw COPY", f"{service_rate / ceiling:.2f}x", "",
                    ">= 0.5x" if judged else "", verdict)  # fmt: skip

    # 4. A retried batch on a full run.
    if "retry" in args.phases:
        settle()
        full, empty, small = retry_phase(ours_client, args)
        summary.add(
            f"retried log-batch on a {args.retry_points:,}-point run, median ms",
            f"{full:.2f}",
            f"empty run {empty:.2f}",
            "ratio ~1 (<= 1.25)",
            None,
        )
        summary.add(
            "retry on full run / same batch on empty run",
            f"{full / empty:.2f}x",
            f"retry on {args.batch}-pt run {small:.2f} ms",
            "<= 1.25x",
            full / empty <= 1.25,
        )

    # 5. Downsampling.
    if "series" in args.phases:
        settle()
        served, how, local = downsample_phase(ours_client, api_client, args)
        size = f"{args.series_points:,} points -> {args.series_points_out}"
        for label, samples, judged in (("HTTP", served, True), ("in-process", local, not served)):
            if not samples:
                continue
            median, p95 = statistics.median(samples) * 1e3, percentile(samples, 95) * 1e3
            summary.add(f"{size}, {label}, median ms", f"{median:.1f}", "", "< 250 ms",
                        median < 250 if judged else None)  # fmt: skip
            summary.add(f"{size}, {label}, p95 ms", f"{p95:.1f}", "", "< 250 ms",
                        p95 < 250 if judged else None)  # fmt: skip
        summary.notes.append(
            f"downsampling: {args.series_repeats} timed calls after a warm-up; {how}"
        )

    print()
    print(
        f"== Summary ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"{'quick' if args.quick else 'full'} size) =="
    )
    print(summary.render())
    for note in summary.notes:
        print(f"- {note}")
    print(flush=True)
    return 0 if all(r.verdict != "FAIL" for r in summary.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
