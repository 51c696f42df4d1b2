"""Test set-up shared by the whole suite.

The suite runs against the database and broker in ``DATABASE_URL`` and ``CELERY_BROKER_URL``
(the README's test command points them at the local PostgreSQL and Redis). In CI, a run on
anything else is an error rather than a silent skip of the tests that need them.
"""

import os
import socket

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread


class _NoDelayServer(ThreadedWSGIServer):
    """The live server, answering at once on a kept-alive connection: Django's test server
    writes an answer's headers and body separately, and with Nagle's algorithm on, the body
    waits for the client's delayed acknowledgement of the headers (about 40 ms a request,
    against 3 ms; a schema run or a browser makes thousands)."""

    def get_request(self):
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


LiveServerThread.server_class = _NoDelayServer


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("CI") and engine != "django.db.backends.postgresql":
        raise pytest.UsageError("CI must run the suite against PostgreSQL (set DATABASE_URL).")
    for item in items:
        if "browser" in item.fixturenames:
            item.add_marker(pytest.mark.browser)
        marker = item.get_closest_marker("django_db")
        kwargs = marker.kwargs if marker else {}
        transactional = kwargs.get("transaction") or {"live_server", "transactional_db"} & set(
            item.fixturenames
        )
        if transactional and not kwargs.get("serialized_rollback"):
            # A flush without it drops the built-in lifecycles (loaded by a data migration)
            # and re-creates content types that the next restoring test then duplicates.
            raise pytest.UsageError(
                f"{item.nodeid}: transactional tests must use "
                "@pytest.mark.django_db(transaction=True, serialized_rollback=True)"
            )


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL to a postgres:// URL")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hashing a password the production way costs a third of a second per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def dataset_files(settings, tmp_path_factory):
    """Dataset files (uploads, exports of production's rows) go to a folder of the test
    run, never to the checkout's var directory; a test may point them elsewhere."""
    settings.EXPERIMENTS_DATASET_ROOT = tmp_path_factory.mktemp("datasets")
