"""Servers the tests start as separate processes, and how to watch and stop them.

Every process here is started by the test run and stopped by its own id: nothing is ever
looked up or signalled by name, since other people's servers run on the same machine.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    """The ids of the direct children of ``pid`` (from /proc; empty once it is gone)."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(FileNotFoundError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found.extend(int(child) for child in text.split())
    return sorted(found)


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_for(predicate, *, timeout: float, what: str, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def stop_group(process: subprocess.Popen, *, timeout: float = 60) -> None:
    """SIGTERM to the session the test started ``process`` in, then SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class Gunicorn:
    """gunicorn serving this checkout against the test database, as production serves it."""

    url: str
    process: subprocess.Popen
    log: Path
    env: dict[str, str] = field(repr=False)

    @property
    def workers(self) -> list[int]:
        return children(self.process.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def assert_alive(self, workers_before: list[int]) -> None:
        """The master and the very same workers still run, and the site answers: no request
        crashed a worker (gunicorn would have replaced it with a new one)."""
        assert self.process.poll() is None, f"gunicorn exited:\n{self.output()[-3000:]}"
        assert self.workers == workers_before, (
            f"a worker died and was replaced ({workers_before} -> {self.workers}):\n"
            f"{self.output()[-3000:]}"
        )
        assert answers(self.url + "/healthz"), "the server stopped answering"


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a server process that must see the test run's own database (its
    tables, and rows that transactional tests commit)."""
    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        raise AssertionError("a server process needs the test database on PostgreSQL")
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "memory://"),
        "DJANGO_DEBUG": "false",
        "MLPROJECTS_LOCAL_HTTP": "true",
        "DJANGO_SECRET_KEY": "test-only-not-a-secret-" + "x" * 40,
        **extra,
    }


@contextlib.contextmanager
def gunicorn(tmp_path: Path, *, workers: int = 1, **env: str) -> Iterator[Gunicorn]:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    full_env = server_env(MLPROJECTS_VAR_DIR=str(tmp_path / "var"), **env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "mlprojects.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "120",
                "--no-control-socket",
            ],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Gunicorn(url=f"http://127.0.0.1:{port}", process=process, log=log, env=full_env)

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited at start:\n{server.output()[-3000:]}")
        return answers(server.url + "/healthz") and len(server.workers) == workers

    try:
        wait_for(up, timeout=60, what=f"gunicorn on port {port}")
        yield server
    finally:
        stop_group(process)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        import json

        return json.loads(self.body)


def raw_http(
    base_url: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    body: bytes | list[bytes] = b"",
    chunked: bool = False,
    cut_off: bool = False,
    timeout: float = 30,
) -> RawResponse:
    """One request written byte for byte, for what ordinary clients never send: a chunked
    body (``body`` as a list of chunks), or a body cut off before its announced length
    (``cut_off``: the client stops sending and closes its side)."""
    host, port = base_url.removeprefix("http://").split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        parts = body if isinstance(body, list) else [body]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
    else:
        payload = b"".join(body) if isinstance(body, list) else body
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        if cut_off:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    if found.get("transfer-encoding") == "chunked":
        rest = _dechunk(rest)
    return RawResponse(int(status_line.split()[1]), found, rest)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out
