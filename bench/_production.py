"""Django as production runs it, for the benchmarks that time its pages in-process: ``DEBUG``
off, a secret of the benchmark's own, the test client's host allowed, no HTTPS redirect,
and static files from a manifest (hashed names) in a folder of the benchmark's own, which
the caller collects once. A process the caller starts inherits the environment."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def start_django(database_url: str, *, var: str, **extra: str) -> None:
    """Set up Django on ``database_url``, with ``var`` the folder (under the system's
    temporary one) for its files, and ``extra`` environment variables."""
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-only-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        MLPROJECTS_VAR_DIR=str(Path(tempfile.gettempdir()) / var),
        **extra,
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlprojects.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
