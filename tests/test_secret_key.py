"""The secret key of `make run`: made once, never replaced, readable by its owner only."""

import os
import stat
import subprocess
import sys

from mlprojects.secret_key import ensure_secret_key
from tests.processes import REPO_ROOT


def test_a_key_is_written_once_with_owner_only_permissions(tmp_path):
    path = tmp_path / "var" / "secret-key"
    old_umask = os.umask(0)  # the most permissive umask must not leak into the file
    try:
        assert ensure_secret_key(path) is True
    finally:
        os.umask(old_umask)

    key = path.read_text()
    assert len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_secret_key(path) is False
    assert path.read_text() == key
    assert [p.name for p in path.parent.iterdir()] == ["secret-key"]  # no temporary left


def test_two_keys_are_different(tmp_path):
    ensure_secret_key(tmp_path / "a")
    ensure_secret_key(tmp_path / "b")

    assert (tmp_path / "a").read_text() != (tmp_path / "b").read_text()


def test_the_command_line_is_what_make_run_calls(tmp_path):
    path = tmp_path / "secret-key"
    command = [sys.executable, "-m", "mlprojects.secret_key", str(path)]

    first = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    key = path.read_text()
    second = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True)

    assert "Generated a secret key" in first.stdout
    assert second.stdout == ""
    assert path.read_text() == key
