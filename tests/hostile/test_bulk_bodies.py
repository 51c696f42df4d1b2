"""Hostile bulk uploads (CSV, NDJSON, columnar JSON) against ``POST /api/v1/runs/<id>/metrics/``.

Two halves. The fast path's readers call pyarrow, whose NDJSON reader segfaulted on a
first line that was not an object: here they run in a child process over every hostile
body (the corpus, then Hypothesis), so a crash fails the test instead of killing pytest.
Then the same bodies go through the endpoint, where an upload is taken whole or refused
with a 400 in the v1 error shape that names the line or field, and nothing is stored.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.bulk import CSV, JSON, NDJSON
from experiments.models import MetricSeries
from phases.choices import Role
from tests.experiments.helpers import stored_points
from tests.hostile import corpus
from tests.hostile.isolated import Isolated
from tests.hostile.strategies import hostile, uploads

pytestmark = [pytest.mark.django_db, pytest.mark.hostile]

CORPORA = {CSV: corpus.CSV, NDJSON: corpus.NDJSON, JSON: corpus.JSON}
V1_SHAPE = {"code", "message", "fields", "details"}
# What each body of the corpus is: an upload after all (True), which is stored, or not one
# (False), which is refused; a body left out may be either, as long as it is one of them.
VALID = {
    CSV: {
        **dict.fromkeys(["BOM", "CRLF", "blank lines", "NaN and infinities"], True),
        **dict.fromkeys(["spaced step", "plus step", "underscore step", "tiny value"], True),
        **dict.fromkeys(
            ["empty", "null", "header only", "no header", "header misspelt", "header twice"],
            False,
        ),
        **dict.fromkeys(
            ["missing column", "extra column", "unterminated quote", "not UTF-8 key", "NUL"],
            False,
        ),
        **dict.fromkeys(["empty key", "null fields", "hex step", "float step"], False),
        **dict.fromkeys(["int64 overflow step", "huge step", "huge value", "hex value"], False),
        **dict.fromkeys(["word value", "truncated last line"], False),
    },
    NDJSON: {
        **dict.fromkeys(["BOM then a point", "CRLF", "blank lines", "whitespace lines"], True),
        **dict.fromkeys(["empty", "null", "null padded", "null after a point", "array"], False),
        **dict.fromkeys(["number", "string", "true", "BOM then null", "truncated"], False),
        **dict.fromkeys(["truncated last line", "two per line", "deep value", "deep line"], False),
        **dict.fromkeys(["not UTF-8", "missing field", "extra field", "null fields"], False),
        **dict.fromkeys(["string step", "int64 overflow step", "huge value"], False),
        **dict.fromkeys(["object key"], False),
    },
    # No document of the JSON corpus is a columnar upload.
    JSON: dict.fromkeys(corpus.JSON, False),
}
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
any_hostile = st.sampled_from(list(CORPORA)).flatmap(
    lambda media_type: st.tuples(st.just(media_type), hostile(CORPORA[media_type]))
)


@pytest.fixture(scope="module")
def isolated():
    with Isolated() as child:
        yield child


# --- The fast readers, in a child process ------------------------------------------------


@pytest.mark.parametrize("media_type", list(CORPORA))
def test_the_fast_readers_survive_the_corpus(isolated, media_type):
    answers = {
        name: isolated.call("tests.hostile.targets:fast_read", media_type, body)
        for name, body in CORPORA[media_type].items()
    }

    # The one first line pyarrow crashed on never reaches it.
    if media_type == NDJSON:
        assert answers["null"] == {"declined": True}
        assert answers["null padded"] == {"declined": True}
    assert all("points" in answer or answer.get("declined") for answer in answers.values())


@settings(max_examples=150, deadline=None, database=None)
@given(upload=st.one_of(any_hostile, uploads()))
def test_the_fast_readers_survive_generated_bodies(isolated, upload):
    media_type, body = upload

    answer = isolated.call("tests.hostile.targets:fast_read", media_type, body)

    assert "points" in answer or answer.get("declined")


# --- Through the endpoint ----------------------------------------------------------------


def upload(world, media_type: str, body: bytes):
    return world.client(Role.CONTRIBUTOR).generic(
        "POST", f"/api/v1/runs/{world.run.run_id}/metrics/", body, content_type=media_type
    )


def check(world, media_type: str, body: bytes, *, before: int, valid: bool | None):
    response = upload(world, media_type, body)
    assert response.status_code < 500, (body[:200], response.content[:300])
    if valid is False:
        assert response.status_code == 400, (body[:200], response.content[:300])
    if valid is True:
        assert response.status_code in (200, 201), (body[:200], response.content[:300])
    if response.status_code == 400:
        answer = response.json()
        assert set(answer) == V1_SHAPE, answer
        assert answer["code"] == "invalid"
        # The refusal names where (a line, an index, the body) and which field.
        assert answer["fields"], answer
        assert stored_points(world.run) == before, body[:200]
    else:
        assert response.status_code in (200, 201), (body[:200], response.content[:300])
    return response


@pytest.mark.parametrize("media_type", list(CORPORA))
def test_the_corpus_is_taken_whole_or_refused_with_the_line_and_field(world, media_type):
    failures = {}
    for name, body in CORPORA[media_type].items():
        before = stored_points(world.run)
        series = MetricSeries.objects.count()
        try:
            valid = VALID[media_type].get(name)
            response = check(world, media_type, body, before=before, valid=valid)
            if response.status_code == 400:
                assert MetricSeries.objects.count() == series
        except AssertionError as error:
            failures[name] = str(error)[:400]
    assert failures == {}


@pytest.mark.parametrize(
    ("media_type", "name", "named"),
    [
        (NDJSON, "null", "line 1: line must be one JSON object"),
        (NDJSON, "deep line", "nested more than 32 levels deep"),
        (NDJSON, "deep value", "nested more than 32 levels deep"),
        (JSON, "deep arrays", "nested more than 32 levels deep"),
        (JSON, "deep under a field", "nested more than 32 levels deep"),
        (CSV, "not UTF-8 key", "UTF-8"),
        (CSV, "hex step", "line 2: step must be a whole number"),
        (CSV, "huge value", "line 2: value must be a number within the range of a double"),
        (NDJSON, "huge value", "line 1: value must be a number within the range of a double"),
    ],
)
def test_a_refusal_names_the_problem(world, media_type, name, named):
    before = stored_points(world.run)

    response = upload(world, media_type, CORPORA[media_type][name])

    assert response.status_code == 400, response.content
    assert named in response.json()["message"]
    assert stored_points(world.run) == before


@EXAMPLES
@given(upload_=any_hostile)
def test_generated_bodies_are_taken_or_refused_never_a_server_error(world, upload_):
    media_type, body = upload_
    before = stored_points(world.run)

    check(world, media_type, body, before=before, valid=None)
