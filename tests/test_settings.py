"""Settings come from the environment: production refuses to start without its secrets,
passes Django's deployment checks once they are set, and with nothing set the app runs on
the embedded default (SQLite and a SQLite broker under the var dir).

Settings are read once per process, so each case runs ``manage.py`` in a fresh subprocess
with a clean environment: nothing leaks in from the shell or from the test run's own
``DATABASE_URL`` and ``CELERY_BROKER_URL``.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, var_dir: Path, **env: str) -> subprocess.CompletedProcess:
    clean_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(var_dir)),
        "MLPROJECTS_VAR_DIR": str(var_dir),
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "example.org",
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage("check", var_dir=tmp_path, **production_env(DJANGO_SECRET_KEY=None))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    result = manage("check", var_dir=tmp_path, **production_env(DJANGO_ALLOWED_HOSTS=None))

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_settings_pass_the_deployment_checks(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", var_dir=tmp_path, **production_env()
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_nothing_set_runs_on_the_embedded_default_under_the_var_dir(tmp_path):
    show = (
        "import json; from django.conf import settings; print(json.dumps({"
        "'debug': settings.DEBUG, "
        "'engine': settings.DATABASES['default']['ENGINE'], "
        "'name': str(settings.DATABASES['default']['NAME']), "
        "'broker': settings.CELERY_BROKER_URL}))"
    )
    result = manage("shell", "--no-imports", "-c", show, var_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == {
        "debug": True,
        "engine": "django.db.backends.sqlite3",
        "name": str(tmp_path / "mlprojects.sqlite3"),
        "broker": f"sqla+sqlite:///{tmp_path / 'celery-broker.sqlite3'}",
    }
    # Reading the settings touched nothing on disk: no I/O at import time.
    assert list(tmp_path.iterdir()) == []


def test_healthz_answers_ok_without_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"


SHOW_SERVING = (
    "import json; from django.conf import settings; print(json.dumps({"
    "'debug': settings.DEBUG, "
    "'secret_key': settings.SECRET_KEY, "
    "'hosts': settings.ALLOWED_HOSTS, "
    "'secure_cookies': [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE], "
    "'ssl_redirect': settings.SECURE_SSL_REDIRECT, "
    "'hsts': settings.SECURE_HSTS_SECONDS, "
    "'static': settings.STORAGES['staticfiles']['BACKEND']}))"
)


def shown(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_make_run_serves_with_debug_off_over_plain_http_with_its_key_file(tmp_path):
    """What `make run` sets: production serving, but cookies and redirects that work over
    plain HTTP on 127.0.0.1, and the secret key read from the file it generated."""
    key_file = tmp_path / "secret-key"
    key_file.write_text("k" * 60)
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        SHOW_SERVING,
        var_dir=tmp_path,
        DJANGO_DEBUG="false",
        MLPROJECTS_LOCAL_HTTP="true",
        DJANGO_SECRET_KEY_FILE=str(key_file),
    )

    assert shown(result) == {
        "debug": False,
        "secret_key": "k" * 60,
        "hosts": ["localhost", "127.0.0.1", "[::1]"],
        "secure_cookies": [False, False],
        "ssl_redirect": False,
        "hsts": 0,
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    }


def test_production_behaviour_is_unchanged_by_the_local_mode_switch_being_absent(tmp_path):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        SHOW_SERVING,
        var_dir=tmp_path,
        **production_env(DJANGO_SECRET_KEY="s" * 60),
    )

    assert shown(result) == {
        "debug": False,
        "secret_key": "s" * 60,
        "hosts": ["example.org"],
        "secure_cookies": [True, True],
        "ssl_redirect": True,
        "hsts": 31536000,
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    }


def test_the_local_mode_still_needs_a_secret_key(tmp_path):
    result = manage("check", var_dir=tmp_path, DJANGO_DEBUG="false", MLPROJECTS_LOCAL_HTTP="true")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_local_mode_switch_means_nothing_with_debug_on(tmp_path):
    result = manage(
        "shell", "--no-imports", "-c", SHOW_SERVING, var_dir=tmp_path, MLPROJECTS_LOCAL_HTTP="true"
    )

    assert shown(result)["debug"] is True
    assert shown(result)["secret_key"] == "django-insecure-local-development-only"
