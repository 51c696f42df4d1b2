"""`make run` serves as production does, and a process that dies comes back on its own.

The README's run command is what a new user, and a small team on one machine, keep
running: gunicorn with debug off, static files from WhiteNoise's manifest, a secret key
made once, cookies that work over plain HTTP on 127.0.0.1, and supervisord restarting
whichever of web, worker and beat dies without touching the other two.
"""

import contextlib
import os
import re
import signal
import stat

import pytest
import requests

from tests.processes import answers, children, wait_for

pytestmark = pytest.mark.server


def test_debug_is_off_and_a_missing_page_is_the_branded_404(made_run):
    response = requests.get(made_run.url + "/no-such-page/", timeout=10)

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.text
    assert "mlprojects" in response.text
    # Django's debug page lists the URL patterns and names the settings.
    assert "URLconf" not in response.text
    assert "DEBUG = True" not in response.text


def test_static_files_are_hashed_and_served_by_whitenoise(made_run):
    page = requests.get(made_run.url + "/accounts/login/", timeout=10)
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page.text)

    assert stylesheet, "the page does not link the manifest's hashed stylesheet"
    response = requests.get(made_run.url + stylesheet[1], timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert "immutable" in response.headers["Cache-Control"]


def test_signing_in_works_over_plain_http(made_run):
    session = requests.Session()
    session.get(made_run.url + "/accounts/login/", timeout=10)
    response = session.post(
        made_run.url + "/accounts/login/",
        data={
            "username": "viewer",
            "password": made_run.demo_password(),
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": made_run.url + "/accounts/login/"},
        timeout=30,
    )

    assert response.status_code == 200
    assert response.url == made_run.url + "/"
    assert "Sign out" in response.text
    cookie = next(c for c in session.cookies if c.name == "sessionid")
    assert not cookie.secure
    assert cookie.has_nonstandard_attr("HttpOnly")


def test_the_secret_key_was_generated_once_for_its_owner_only(made_run):
    key_file = made_run.var_dir / "secret-key"

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text()) >= 50
    assert "secret-key" in made_run.output()


@pytest.mark.parametrize("program", ["worker", "beat", "web"])
def test_a_killed_process_comes_back_and_the_others_keep_running(made_run, program):
    before = made_run.pids()
    assert all(before.values()), before

    os.kill(before[program], signal.SIGKILL)
    try:
        wait_for(
            lambda: made_run.running() and made_run.pid(program) not in (0, before[program]),
            timeout=90,
            what=f"supervisord to restart {program}",
        )
    finally:
        # The killed process's own children (a pool, gunicorn's workers) would exit on
        # their own once they notice; they are in its process group, so end them now.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(before[program], signal.SIGKILL)

    after = made_run.pids()
    assert after[program] != before[program]
    assert {p: after[p] for p in after if p != program} == {
        p: before[p] for p in before if p != program
    }
    wait_for(lambda: answers(made_run.url + "/healthz"), timeout=60, what="web to answer")


def test_gunicorn_replaces_a_dead_worker_process(made_run):
    wait_for(lambda: answers(made_run.url + "/healthz"), timeout=60, what="web to answer")
    master = made_run.pid("web")
    workers = wait_for(
        lambda: children(master) if len(children(master)) == 2 else None,
        timeout=60,
        what="two gunicorn workers",
    )

    os.kill(workers[0], signal.SIGKILL)

    replaced = wait_for(
        lambda: (found := children(master)) and len(found) == 2 and workers[0] not in found,
        timeout=60,
        what="gunicorn to replace its worker",
    )
    assert replaced
    assert made_run.pid("web") == master
    assert answers(made_run.url + "/healthz")
