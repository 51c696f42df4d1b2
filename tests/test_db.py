"""The model pieces of ``mlprojects.db`` that every app's services share."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mlprojects.db import locked
from phases.models import Phase
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def test_locked_reads_the_row_again_under_a_lock_with_what_it_joins():
    project = make_project()
    phase = project.phases.order_by("order").first()
    Phase.objects.filter(pk=phase.pk).update(name="Renamed elsewhere")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        fresh = locked(phase, "project")
        assert fresh.project.slug == project.slug
    assert fresh.name == "Renamed elsewhere"
    assert phase.name != fresh.name
    (query,) = [q["sql"] for q in queries.captured_queries if "SELECT" in q["sql"]]
    assert "FOR UPDATE" in query and "JOIN" in query
