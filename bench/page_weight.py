"""Page weight: what each dashboard page costs a browser on a cold cache, in bytes.

Why this exists: issue 11 asks that plotly.js load only on pages with a chart, as the
smallest bundle that draws that page's traces, compressed, and the API docs' assets
compressed too. The numbers depend on the collected, compressed static files and on what
the browser actually fetches, so they are measured in Chromium against the app served as
``make run`` serves it, never in the test suite:

    .venv/bin/python bench/page_weight.py                  # a minute on the demo portfolio
    .venv/bin/python bench/page_weight.py --database mlprojects_bench_weight --json out.json

1. **Data**: the demo portfolio (``demo_data --if-empty``) in its own PostgreSQL database
   (``--database``, created and migrated when missing, rebuilt with ``--fresh``), with a
   password of this run's own.
2. **Server**: ``collectstatic`` into a temporary folder (WhiteNoise's manifest and its
   brotli and gzip files), then gunicorn on a free port of 127.0.0.1, debug off.
3. **Browser**: Debian's Chromium through Playwright, a new context (empty cache) per page:
   sign in as the demo superuser, open the page, wait until the network is idle (charts.js
   fetches plotly.js after the page has loaded). For every response: the bytes of its body
   as sent (``transferred``, compressed where the server compressed it) and as decoded
   (``decoded``). Redirects and the sign-in page are not counted.

Only 127.0.0.1 is contacted; the database is kept afterwards (``dropdb`` it when done).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from admin import prepare_database  # bench/admin.py: bench/ is this script's folder

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
CHROMIUM = "/usr/bin/chromium"
USER = "admin"  # the superuser sees every page of every project


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="mlprojects_bench_weight")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--fresh", action="store_true", help="drop and reload the database")
    parser.add_argument("--verbose", action="store_true", help="every response, on stderr")
    args = parser.parse_args()
    if urlsplit(args.server).hostname not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("--server must be this machine's PostgreSQL")
    return args


def environment(args: argparse.Namespace, var_dir: Path, port: int, password: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"{args.server}/{args.database}",
        "MLPROJECTS_VAR_DIR": str(var_dir),
        "MLPROJECTS_PORT": str(port),
        "DJANGO_DEBUG": "false",
        "MLPROJECTS_LOCAL_HTTP": "true",
        "DJANGO_SECRET_KEY": "bench-only-" + secrets.token_urlsafe(40),
        "MLPROJECTS_DEMO_PASSWORD": password,
    }


def manage(env: dict, *command: str) -> str:
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", *command],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


# What the script asks Django for: one URL of each kind of page, from the demo's data.
PAGES_SCRIPT = """
import json
from django.urls import reverse
from experiments.models import Run, Sweep
from registry.models import ModelVersion

sweep = Sweep.objects.select_related("project").order_by("pk").first()
project = sweep.project
# Runs with curves (a metric logged more than once), so the run page draws charts.
runs = list(
    Run.objects.filter(experiment__project=project, metric_series__point_count__gt=1)
    .distinct().order_by("pk")[:5]
)
version = ModelVersion.objects.select_related("registered_model__project").order_by("pk").first()
model = version.registered_model
slug = project.slug
print(json.dumps({
    "portfolio": reverse("dashboard:portfolio"),
    "project": reverse("dashboard:project", args=[slug]),
    "runs": reverse("dashboard:runs", args=[slug]),
    "run": reverse("dashboard:run", args=[slug, runs[0].run_id]),
    "compare": reverse("dashboard:run-compare", args=[slug])
    + "?runs=" + ",".join(run.run_id for run in runs),
    "sweep": reverse("dashboard:sweep", args=[slug, sweep.pk]),
    "model version": reverse(
        "dashboard:model-version",
        args=[model.project.slug, model.name, version.version],
    ),
    "API docs (Swagger UI)": reverse("docs"),
}))
"""
# The demo's users keep the password of the run that made them: this run sets its own.
RESET_SCRIPT = (
    "from django.contrib.auth import get_user_model; "
    "u = get_user_model().objects.get(username={user!r}); "
    "u.set_password({password!r}); u.save()"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_up(process: subprocess.Popen, host: str, port: int, path: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            connection = http.client.HTTPConnection(host, port, timeout=5)
            connection.request("GET", path)
            connection.getresponse()
            connection.close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{host}:{port}{path} did not answer in {timeout:.0f} s")


# Every chart drawn, and Swagger UI's operations listed from the schema it fetched.
READY = """() => Array.from(document.querySelectorAll("[data-figure]"))
    .every(el => el.classList.contains("js-plotly-plot") || el.querySelector(".chart-fallback"))
    && (!document.getElementById("swagger-ui") || document.querySelector(".opblock"))"""


@dataclass
class Weight:
    page: str
    transferred: int = 0
    decoded: int = 0
    requests: int = 0
    scripts: dict[str, list[int]] = field(default_factory=dict)


def weigh(context, base: str, name: str, path: str, verbose: bool) -> Weight:
    page = context.new_page()
    weight = Weight(name)
    counted: list = []
    page.on("requestfinished", lambda request: counted.append(request))
    response = page.goto(base + path, wait_until="networkidle")
    if response.status != 200:
        raise RuntimeError(f"{name}: {path} answered {response.status}")
    # Parsing a large script can outlast the idle time: wait for what it fetches next.
    page.wait_for_function(READY, timeout=60_000)
    page.wait_for_load_state("networkidle")
    for request in counted:
        response = request.response()
        if response is None or 300 <= response.status < 400:
            continue
        sent = request.sizes()["responseBodySize"]
        decoded = len(response.body())
        weight.requests += 1
        weight.transferred += sent
        weight.decoded += decoded
        if verbose:
            encoding = response.headers.get("content-encoding", "-")
            log(f"{name}: {sent:>9,} {decoded:>9,} {encoding:<5} {request.url}")
        if request.resource_type == "script":
            weight.scripts[urlsplit(request.url).path.rsplit("/", 1)[-1]] = [sent, decoded]
    page.close()
    return weight


def measure(base: str, pages: dict[str, str], password: str, verbose: bool) -> list[Weight]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            for name, path in pages.items():
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                sign_in = context.new_page()
                sign_in.goto(base + "/accounts/login/")
                sign_in.get_by_label("Username").fill(USER)
                sign_in.get_by_label("Password").fill(password)
                sign_in.get_by_role("button", name="Sign in").click()
                sign_in.wait_for_url(base + "/")
                sign_in.close()
                # The sign-in filled the cache: a new context would sign out, so the cache
                # is emptied instead.
                cdp = context.new_cdp_session(context.new_page())
                cdp.send("Network.clearBrowserCache")
                results.append(weigh(context, base, name, path, verbose))
                context.close()
        finally:
            browser.close()
    return results


def kib(n: int) -> str:
    return f"{n / 1024:,.0f}"


def report(results: list[Weight]) -> None:
    print(
        f"{'page':<24}{'requests':>9}{'KiB sent':>10}{'KiB decoded':>13}"
        "  largest script: KiB sent/decoded"
    )
    for r in results:
        largest = max(r.scripts.items(), key=lambda item: item[1][1], default=("", [0, 0]))
        script = f"{largest[0]} {kib(largest[1][0])}/{kib(largest[1][1])}" if r.scripts else ""
        print(f"{r.page:<24}{r.requests:>9}{kib(r.transferred):>10}{kib(r.decoded):>13}  {script}")


def main() -> int:
    args = arguments()
    if not shutil.which(CHROMIUM):
        sys.exit(f"{CHROMIUM} is missing (apt-get install chromium)")
    prepare_database(args)
    password = secrets.token_urlsafe(16)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="page-weight-") as var:
        env = environment(args, Path(var), port, password)
        log("migrating, loading the demo portfolio when empty")
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "demo_data", "--if-empty", "--force")
        manage(env, "shell", "-c", RESET_SCRIPT.format(user=USER, password=password))
        log("collecting static files (compressing them: a minute or two)")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        pages = json.loads(manage(env, "shell", "-c", PAGES_SCRIPT).splitlines()[-1])
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "mlprojects.wsgi:application",
                *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--no-control-socket"),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_up(server, "127.0.0.1", port, "/healthz")
            log(f"measuring {len(pages)} pages on {base}")
            results = measure(base, pages, password, args.verbose)
        finally:
            server.terminate()
            server.wait(15)
    report(results)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
