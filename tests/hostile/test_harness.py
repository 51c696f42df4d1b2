"""The harness of the hostile suite itself: a crash in the isolated child fails the call,
not pytest; and the live-server check notices a worker that died."""

import json
import os
import signal

import pytest

from mlprojects.jsonbodies import TooDeep, check_depth
from tests.hostile import corpus
from tests.hostile.isolated import Crashed, Isolated, Raised
from tests.processes import gunicorn, wait_for

pytestmark = pytest.mark.hostile


def test_a_crash_in_the_child_fails_the_call_and_the_next_call_gets_a_new_child():
    with Isolated() as isolated:
        assert isolated.call("tests.hostile.targets:echo", b"\x00\xff") == {"length": 2}
        first = isolated.process.pid

        with pytest.raises(Crashed, match="SIGSEGV"):
            isolated.call("tests.hostile.targets:segfault")

        assert isolated.call("tests.hostile.targets:echo", b"ok") == {"length": 2}
        assert isolated.process.pid != first


def test_an_exception_in_the_child_comes_back_as_a_value():
    with Isolated() as isolated:
        assert isolated.call("tests.hostile.targets:refuse", "no") == Raised("ValueError", "no")


@pytest.mark.parametrize("name", ["deep arrays", "deep objects", "deep under a field"])
def test_the_deep_inputs_are_deeper_than_python_parses(name):
    with pytest.raises(RecursionError):
        json.loads(corpus.JSON[name])


def test_the_depth_limit_counts_levels():
    check_depth([[[1]]], limit=3)
    with pytest.raises(TooDeep):
        check_depth([[[[1]]]], limit=3)
    with pytest.raises(TooDeep):
        check_depth({"a": [{"b": [1]}]}, limit=3)
    # The bytes alone show a flat body needs no walk; a nested one is walked.
    check_depth({"a": list(range(10_000))}, raw=b'{"a": [0, 1, 2]}', limit=2)
    with pytest.raises(TooDeep):
        check_depth([[[[1]]]], raw=b"[[[[1]]]]", limit=3)


@pytest.mark.server
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_live_check_notices_a_replaced_worker(tmp_path):
    with gunicorn(tmp_path) as server:
        workers = server.workers
        server.assert_alive(workers)

        os.kill(workers[0], signal.SIGKILL)
        wait_for(
            lambda: server.workers and server.workers != workers,
            timeout=30,
            what="gunicorn to replace the worker",
        )

        with pytest.raises(AssertionError, match="a worker died"):
            server.assert_alive(workers)
