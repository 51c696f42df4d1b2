"""Real Celery workers for the sweep tests: started against the test database and Redis,
watched through the ledger, and stopped (or killed) by their own process ids only."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlprojects.celery import Queue, app
from tests.phases.test_tasks import database_url
from tests.processes import REPO_ROOT, children, stop_group, wait_for


def broker() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if os.environ.get("CI"):
        assert url.startswith("redis://"), "CI runs the worker tests against Redis"
    elif not url.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL to a redis:// URL")
    return url


def purge() -> None:
    """No message of an earlier test (its trials are gone) waits in the experiments queue."""
    with app.connection_for_write() as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_purge(Queue.EXPERIMENTS.value)


class Worker:
    def __init__(self, log: Path, *, concurrency: int = 2, **env: str) -> None:
        self.log = log
        full = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker(),
            "DATABASE_CONN_MAX_AGE": "0",
            "EXPERIMENTS_TRIAL_LEASE_SECONDS": "3",
            **env,
        }
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "mlprojects", "worker",
                    "--pool", "prefork", "--concurrency", str(concurrency),
                    "--queues", Queue.EXPERIMENTS.value, "--loglevel", "INFO",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "--hostname", f"test-{log.stem}@%h",
                ],
                cwd=REPO_ROOT, env=full, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.group = self.process.pid

    @property
    def pool(self) -> list[int]:
        return children(self.process.pid)

    def ready(self, processes: int) -> None:
        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{self.output()[-3000:]}")
            return len(self.pool) >= processes and "ready." in self.output()

        wait_for(up, timeout=60, what="the worker and its pool")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_main(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        stop_group(self.process, timeout=20)
        # Pool processes orphaned by a killed main process are in the same session.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.group, signal.SIGKILL)


@contextlib.contextmanager
def workers(tmp_path: Path, *specs: dict):
    started = []
    try:
        for index, spec in enumerate(specs):
            started.append(Worker(tmp_path / f"worker{index}.log", **spec))
        for worker, spec in zip(started, specs, strict=True):
            worker.ready(spec.get("concurrency", 2))
        yield started
    finally:
        for worker in started:
            worker.stop()


def until(predicate, *, timeout: float, what: str, logs=()):
    try:
        return wait_for(predicate, timeout=timeout, what=what, every=0.2)
    except AssertionError as error:
        tails = "\n".join(w.output()[-2500:] for w in logs)
        raise AssertionError(f"{error}\n{tails}") from None


def settle_time() -> None:
    time.sleep(0.5)
