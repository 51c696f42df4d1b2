"""`make run` itself, started as the README tells a new user to, on a fresh var dir.

It runs the embedded default (SQLite, a SQLite broker) with no environment from the test
run, on a free port instead of 8000. One stack serves every test that asks for it:
starting it (migrations, static files, the demo portfolio) takes most of a minute.
"""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import REPO_ROOT, alive, answers, free_port, stop_group, wait_for

PROGRAMS = ("web", "worker", "beat")


@dataclass
class MadeRun:
    url: str
    var_dir: Path
    process: subprocess.Popen
    log: Path
    env: dict[str, str]

    def ctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(REPO_ROOT / ".venv/bin/supervisorctl"), "-c", "etc/supervisord/run.conf", *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.stdout.strip()

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program) or 0)

    def pids(self) -> dict[str, int]:
        return {program: self.pid(program) for program in PROGRAMS}

    def running(self) -> bool:
        status = self.ctl("status")
        return all(f"{program} " in status for program in PROGRAMS) and status.count(
            "RUNNING"
        ) == len(PROGRAMS)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def demo_password(self) -> str:
        text = (self.var_dir / "demo-credentials.txt").read_text()
        return next(line for line in text.splitlines() if line.startswith("Password: "))[10:]


@pytest.fixture(scope="session")
def made_run(tmp_path_factory) -> MadeRun:
    root = tmp_path_factory.mktemp("make-run")
    var_dir = root / "var"
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(root)),
        "MLPROJECTS_VAR_DIR": str(var_dir),
        "MLPROJECTS_PORT": str(port),
    }
    log = root / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = MadeRun(f"http://127.0.0.1:{port}", var_dir, process, log, env)

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"make run exited:\n{run.output()[-4000:]}")
        return answers(run.url + "/healthz") and run.running()

    supervisord = 0
    try:
        wait_for(up, timeout=240, what="make run to serve", every=1)
        supervisord = int((var_dir / "supervisord.pid").read_text())
        yield run
    finally:
        stop_group(process)
        if supervisord:
            wait_for(lambda: not alive(supervisord), timeout=90, what="supervisord to stop")
