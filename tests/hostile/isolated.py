"""Run code that calls native parsers in a child process, so that a crash (a segfault in
pyarrow, an abort in a C extension) fails the test that sent the input instead of killing
pytest with every other test in it.

``Isolated`` keeps one child Python process and sends it calls, one JSON line each: the
dotted name of a function and its arguments (bytes travel as base64). The child answers
with what the function returned (it must be JSON: a test target turns arrays into lists)
or the exception it raised. If the child dies, the call raises :class:`Crashed` naming the
signal, with the child's faulthandler traceback, and the next call starts a new child.
"""

import base64
import contextlib
import faulthandler
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from tests.processes import REPO_ROOT


class Crashed(AssertionError):
    """The child process died while running a call: the input would kill a server process."""


@dataclass(frozen=True)
class Raised:
    type: str
    message: str


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return base64.b64decode(value["__bytes__"])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


class Isolated:
    """One child process at a time; use as a context manager (or call :meth:`close`)."""

    def __init__(self, *, timeout: float = 60) -> None:
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        # A file, not a pipe: a chatty child must never block on a full pipe.
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by close)

    def __enter__(self) -> "Isolated":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> subprocess.Popen:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mlprojects.settings"}
        return subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.isolated"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            bufsize=1,
        )

    def call(self, target: str, *args: Any) -> Any:
        """``target`` ("package.module:function") called with ``args`` in the child: its
        return value, or a :class:`Raised` for the exception it raised."""
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        request = json.dumps({"target": target, "args": _encode(list(args))})
        try:
            self.process.stdin.write(request + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self._crashed(target, args)
        answer = json.loads(line)
        if "raised" in answer:
            return Raised(*answer["raised"])
        return _decode(answer["returned"])

    def _crashed(self, target: str, args: tuple) -> None:
        process, self.process = self.process, None
        try:
            code = process.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        process.stdout.close()
        self.stderr.seek(0)
        stderr = self.stderr.read()
        self.stderr.seek(0)
        self.stderr.truncate()
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        shown = repr(args)[:300]
        raise Crashed(f"{target}{shown} killed its process ({how}):\n{stderr[-3000:]}")

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            self.stderr.close()
            return
        with contextlib.suppress(BrokenPipeError, OSError):
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        self.stderr.close()


def _serve() -> None:
    """The child: answer calls from stdin until it closes."""
    faulthandler.enable()
    import django

    django.setup()
    for line in sys.stdin:
        request = json.loads(line)
        module, _, name = request["target"].partition(":")
        function = getattr(importlib.import_module(module), name)
        try:
            answer = {"returned": _encode(function(*_decode(request["args"])))}
        except Exception as error:  # every refusal goes back to the test
            answer = {"raised": [type(error).__name__, str(error)]}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
