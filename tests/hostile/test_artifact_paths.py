"""Generated artifact paths (Hypothesis) against the MLflow artifact proxy: every answer below
500, a refusal in MLflow's shape, and whatever is stored lands inside the run's own folder;
nothing outside it is written, read or removed. Each example is a short sequence of calls on
an empty folder, so a path can meet what an earlier one stored (a file where a folder of
the next path would be)."""

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import services
from phases.choices import Role
from tests.experiments.helpers import api

pytestmark = [pytest.mark.django_db, pytest.mark.hostile]

SEGMENTS = st.sampled_from(
    [
        "..",
        ".",
        "",
        "%2e%2e",
        "%252e%252e",
        "..%2f",
        "a\\b",
        "\x00",
        "\x1f",
        "C:",
        "c:x",
        ";",
        "#",
        "?",
        ".upload-x",
        "model.bin",
        "sub",
        "é",
        "x" * 300,
        "~",
        "$HOME",
    ]
)
paths = st.one_of(
    st.lists(st.one_of(SEGMENTS, st.text(max_size=12)), min_size=1, max_size=6).map("/".join),
    st.text(max_size=60),
).map(lambda path: path.lstrip("/"))


@pytest.fixture
def place(world, settings, tmp_path):
    settings.MLPROJECTS_ARTIFACT_ROOT = tmp_path / "root"
    run = services.run_create(experiment=world.experiment, by=world.users[Role.MANAGER])
    folder = tmp_path / "root" / str(world.project.pk) / str(world.experiment.pk) / run.run_id
    (tmp_path / "outside.txt").write_text("kept")
    return {
        "client": world.client(Role.CONTRIBUTOR),
        "url": api(
            f"mlflow-artifacts/artifacts/{world.experiment.pk}/{run.run_id}/artifacts",
            project=world.project.slug,
        ),
        "folder": folder / "artifacts",
        "tmp": tmp_path,
    }


def outside(place) -> dict[str, bytes]:
    return {
        str(path): path.read_bytes()
        for path in place["tmp"].rglob("*")
        if path.is_file() and place["folder"] not in path.parents
    }


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(
    calls=st.lists(
        st.tuples(st.sampled_from(["PUT", "GET", "DELETE"]), paths), min_size=1, max_size=3
    )
)
def test_no_generated_path_escapes_the_run_or_errs(place, calls):
    shutil.rmtree(place["folder"], ignore_errors=True)
    before = outside(place)

    for method, path in calls:
        response = place["client"].generic(method, f"{place['url']}/{path}", b"data")

        assert response.status_code < 500, (calls, response.content[:300])
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"error_code", "message"}, body
    assert outside(place) == before, calls
    for stored in place["folder"].rglob("*") if place["folder"].exists() else []:
        assert stored.resolve().is_relative_to(place["folder"].resolve())


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_path_through_a_file_is_refused_not_an_error(place, method):
    """Found by the test above: a path whose folder is a stored file answered 500."""
    stored = place["client"].generic("PUT", f"{place['url']}/é", b"data")
    assert stored.status_code == 200

    response = place["client"].generic(method, f"{place['url']}/é/é", b"data")

    assert response.status_code in (400, 404), response.content
    assert set(response.json()) == {"error_code", "message"}
    assert (place["folder"] / "é").read_bytes() == b"data"
