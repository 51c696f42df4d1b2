"""Generated artifact paths (Hypothesis) against the MLflow artifact proxy: every answer below
500, a refusal in MLflow's shape, and whatever is stored lands inside the run's own folder;
nothing outside it is written, read or removed."""

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
@given(path=paths, method=st.sampled_from(["PUT", "GET", "DELETE"]))
def test_no_generated_path_escapes_the_run_or_errs(place, path, method):
    before = outside(place)

    response = place["client"].generic(method, f"{place['url']}/{path}", b"data")

    assert response.status_code < 500, (path, response.content[:300])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error_code", "message"}, body
    assert outside(place) == before, path
    for stored in place["folder"].rglob("*") if place["folder"].exists() else []:
        assert stored.resolve().is_relative_to(place["folder"].resolve())
