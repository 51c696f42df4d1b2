"""Model registry benchmark: registering and loading a 50 MB model through the artifact layer,
this server against MLflow's own tracking server on the same machine, both directions.

Why this exists: issue 13 asks that a model's artifacts go up and come back at least as fast
as through MLflow's server. Measured by hand, never in the test suite (timings on a shared
machine would make tests flaky).

What is timed, with the same unmodified ``mlflow`` client (the app's venv) against each
server, in a subprocess per measurement, interleaved ours / MLflow's:

1. **Register**: create a logged model, upload its artifacts (an ``MLmodel`` file and a
   50 MB weights file, ``log_model_artifacts``), finalize it, register it
   (``register_model("models:/<id>")``) and set the alias ``champion``: what
   ``mlflow.<flavor>.log_model(..., registered_model_name=...)`` does minus the flavor's
   own serialization, which costs the same against any server.
2. **Load**: ``download_artifacts("models:/bench-model@champion")``, which resolves the
   alias, the version's download URI and the logged model, lists the folder and downloads
   every file; the downloaded weights are checked byte for byte.

Target: ours at least as fast as MLflow's in both directions (ratio of medians <= 1.0,
reported with the spread). Both servers store artifacts on the local disk: ours under its
artifact root, MLflow's behind its artifacts proxy (``--serve-artifacts``), both on
PostgreSQL. Servers, venv and databases are handled by ``bench/mlflow_ingest.py``'s helpers.

    .venv/bin/python bench/model_registry.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

# The helpers of the ingest benchmark, beside this script (its folder is on sys.path).
from mlflow_ingest import (
    LOOPBACK,
    PROJECT_SLUG,
    REPO,
    Pg,
    Server,
    ensure_mlflow_venv,
    free_port,
    log,
    setup_django,
    start_server,
    wait_healthy,
)

OUR_DB, MLFLOW_DB = "bench_registry_ours", "bench_registry_mlflow"
MODEL_NAME = "bench-model"

# One measurement, run by the app's mlflow client against MLFLOW_TRACKING_URI.
CLIENT = textwrap.dedent(
    """
    import hashlib, json, os, sys, tempfile, time
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModelStatus

    phase, folder = sys.argv[1], sys.argv[2]
    client = MlflowClient()
    if phase == "register":
        experiment = mlflow.set_experiment("bench")
        started = time.perf_counter()
        model = mlflow.initialize_logged_model(name="model", experiment_id=experiment.experiment_id)
        client.log_model_artifacts(model.model_id, folder)
        client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
        version = mlflow.register_model(f"models:/{model.model_id}", os.environ["BENCH_MODEL"])
        client.set_registered_model_alias(os.environ["BENCH_MODEL"], "champion", version.version)
        seconds = time.perf_counter() - started
        print(json.dumps({"seconds": seconds, "version": version.version}))
    else:
        with tempfile.TemporaryDirectory() as target:
            started = time.perf_counter()
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{os.environ['BENCH_MODEL']}@champion", dst_path=target
            )
            seconds = time.perf_counter() - started
            digest = hashlib.sha256(open(os.path.join(path, "weights.bin"), "rb").read())
            print(json.dumps({"seconds": seconds, "sha256": digest.hexdigest()}))
    """
)


def make_model(folder: Path, megabytes: int) -> str:
    """An MLflow model folder: an ``MLmodel`` and ``megabytes`` of weights; their digest."""
    import hashlib

    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("artifact_path: model\nflavors: {}\nmlflow_version: 3.17.2\n")
    digest = hashlib.sha256()
    with open(folder / "weights.bin", "wb") as out:
        for _ in range(megabytes):
            block = os.urandom(1 << 20)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def measure(phase: str, uri: str, token: str | None, folder: Path) -> dict:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "BENCH_MODEL": MODEL_NAME}
    env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    env.pop("MLFLOW_TRACKING_TOKEN", None)
    if token:
        env["MLFLOW_TRACKING_TOKEN"] = token
    for name in [k for k in env if k.startswith("DJANGO") or k == "DATABASE_URL"]:
        env.pop(name)
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, phase, str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{phase} against {uri} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (ours)")
    parser.add_argument("--mlflow-workers", type=int, default=2)
    parser.add_argument("--mlflow-venv", type=Path, default=Path("/tmp/mlflow-venv"))  # noqa: S108
    args = parser.parse_args(argv)
    parts = urlsplit(args.pg)
    if parts.hostname not in LOOPBACK:
        raise SystemExit("--pg must be a PostgreSQL on this machine (127.0.0.1)")
    pg = Pg(parts.hostname, parts.port or 5432, parts.username or "postgres")
    workdir = Path(tempfile.mkdtemp(prefix="model-registry-bench-"))
    servers: list[Server] = []
    try:
        return run(args, pg, workdir, servers)
    finally:
        for server in reversed(servers):
            server.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110  (Django may never have been set up)
            pass
        for database in (OUR_DB, MLFLOW_DB):
            pg.drop(database)
        log(f"stopped {len(servers)} servers, dropped the databases; scratch in {workdir}")


def run(args, pg: Pg, workdir: Path, servers: list[Server]) -> int:
    pg.recreate(OUR_DB)
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
        "MLPROJECTS_ARTIFACT_ROOT": str(workdir / "ours-artifacts"),
    }
    (workdir / "var").mkdir()
    log(f"migrating {OUR_DB}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True
    )
    ours_port, mlflow_port = free_port(), free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    ours = start_server(
        "ours",
        [gunicorn, "mlprojects.wsgi:application", "-w", str(args.workers), "-b",
         f"127.0.0.1:{ours_port}", "--timeout", "600", "--log-level", "warning"],
        env,
        workdir,
    )  # fmt: skip
    servers.append(ours)
    mlflow = ensure_mlflow_venv(args.mlflow_venv)
    mlflow_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    mlflow_env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    theirs = start_server(
        "mlflow",
        [str(mlflow), "server", "--backend-store-uri", pg.url(MLFLOW_DB, driver="psycopg2"),
         "--serve-artifacts", "--artifacts-destination", str(workdir / "mlflow-artifacts"),
         "--host", "127.0.0.1", "--port", str(mlflow_port), "--workers",
         str(args.mlflow_workers), "--allowed-hosts", "127.0.0.1:*,localhost:*"],
        mlflow_env,
        workdir,
    )  # fmt: skip
    servers.append(theirs)
    secret, _ = setup_django(env)
    wait_healthy(ours, "127.0.0.1", ours_port, "/healthz")
    wait_healthy(theirs, "127.0.0.1", mlflow_port, "/health", timeout=300)

    folder = workdir / "model"
    digest = make_model(folder, args.megabytes)
    targets = {
        "ours": (f"http://127.0.0.1:{ours_port}/projects/{PROJECT_SLUG}", secret),
        "mlflow": (f"http://127.0.0.1:{mlflow_port}", None),
    }
    timings: dict[tuple[str, str], list[float]] = {}
    for repeat in range(args.repeats):
        for name, (uri, token) in targets.items():
            registered = measure("register", uri, token, folder)
            loaded = measure("load", uri, token, folder)
            if loaded["sha256"] != digest:
                raise RuntimeError(f"{name} returned other bytes than it was given")
            timings.setdefault((name, "register"), []).append(registered["seconds"])
            timings.setdefault((name, "load"), []).append(loaded["seconds"])
            log(
                f"#{repeat + 1} {name}: register {registered['seconds']:.2f} s "
                f"(version {registered['version']}), load {loaded['seconds']:.2f} s"
            )
    print()
    print(f"{args.megabytes} MB model, {args.repeats} repeats, median (min-max) seconds")
    failed = False
    for phase in ("register", "load"):
        ours_t, theirs_t = timings[("ours", phase)], timings[("mlflow", phase)]
        ratio = statistics.median(ours_t) / statistics.median(theirs_t)
        verdict = "PASS" if ratio <= 1.0 else "FAIL"
        failed |= ratio > 1.0
        print(
            f"{phase:>8}: ours {statistics.median(ours_t):.2f} ({min(ours_t):.2f}-"
            f"{max(ours_t):.2f}), MLflow {statistics.median(theirs_t):.2f} "
            f"({min(theirs_t):.2f}-{max(theirs_t):.2f}), ours/MLflow {ratio:.2f} "
            f"(target <= 1.00) {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
