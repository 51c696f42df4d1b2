"""The batch parsers: JSON, NDJSON and CSV read into columns, hostile input refused with the
line and the rule, properties checked with Hypothesis, and the native parsers (orjson,
the csv module's C reader) fed hostile bytes in a subprocess, so that a crash in them
would fail a test instead of taking the test runner with it."""

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlprojects.exceptions import DomainError
from monitoring import ingest

ROOT = Path(__file__).resolve().parents[2]


def test_json_rows_columns_and_lists_read_alike():
    rows = [{"row_id": "a", "x": 1.5, "c": "red"}, {"row_id": "b", "c": None}]
    expected = {"row_id": ["a", "b"], "x": [1.5, None], "c": ["red", None]}
    assert ingest.parse(json.dumps({"rows": rows}).encode(), "application/json").columns == expected
    assert ingest.parse(json.dumps(rows).encode(), "application/json").columns == expected
    columnar = json.dumps({"columns": expected, "observed_at": "2026-05-04T10:00:00Z"})
    parsed = ingest.parse(columnar.encode(), "application/json; charset=utf-8")
    assert parsed.columns == expected
    assert parsed.observed_at.isoformat() == "2026-05-04T10:00:00+00:00"
    # A number past 64 bits is read as the float it is closest to, not refused.
    huge = ingest.parse(b'[{"x": 123456789012345678901234567890}]', "application/json")
    assert huge.columns == {"x": [1.2345678901234568e29]}


def test_ndjson_and_csv():
    body = b'{"row_id": "a", "x": 1}\n\n{"row_id": "b", "y": true}\n'
    assert ingest.parse(body, "application/x-ndjson").columns == {
        "row_id": ["a", "b"],
        "x": [1, None],
        "y": [None, True],
    }
    body = '\ufeffrow_id,x,c\r\na,1.5,"red, dark"\r\nb,,blue\r\n'.encode()
    assert ingest.parse(body, "text/csv").columns == {
        "row_id": ["a", "b"],
        "x": ["1.5", None],
        "c": ["red, dark", "blue"],
    }


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"{", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "[0]: each row must be an object"),
        (b'{"rows": [{"x": [1]}]}', "application/json", "rows[0].x: must be a single value"),
        (b'{"rows": [], "columns": {}}', "application/json", "either rows or columns"),
        (b'{"rowz": []}', "application/json", "rowz: unknown key"),
        (b'{"columns": {"x": 1}}', "application/json", "columns.x: must be a list"),
        (b'{"rows": [], "observed_at": "yesterday"}', "application/json", "ISO 8601"),
        (b'{"rows": [], "observed_at": "2026-01-01T00:00:00"}', "application/json", "offset"),
        (b"[" * 5000 + b"]" * 5000, "application/json", "not valid JSON"),
        (b'{"rows": [{"x": NaN}]}', "application/json", "not valid JSON"),
        (b'{"a": 1}\n{"b": \n', "application/x-ndjson", "line 2: not valid JSON"),
        (b'{"a": 1}\n[2]\n', "application/x-ndjson", "line 2: each row must be an object"),
        (b"x,y\n1,2,3\n", "text/csv", "line 2: has 3 cells where the header has 2"),
        (b"x,x\n1,2\n", "text/csv", "appears twice"),
        (b'x\n"unclosed\n', "text/csv", "not valid CSV"),
        (b"x\n\xff\xfe\n", "text/csv", "must be UTF-8"),
        (b"x\na\x00b\n", "text/csv", "NUL"),
        (b"", "text/csv", "header of column names"),
        (b"x\n" + b"a" * 20_000 + b"\n", "text/csv", "longer than"),
        (",".join(f"c{i}" for i in range(1001)).encode(), "text/csv", "more than 1000"),
        (b"{}", "application/json", "either rows or columns"),
        (b'{"columns": {}}', "application/json", "no columns"),
    ],
)
def test_hostile_bodies_are_refused_with_where_and_why(body, content_type, words):
    with pytest.raises(DomainError) as refused:
        ingest.parse(body, content_type)
    assert words in refused.value.message
    assert refused.value.code in ("invalid", "unsupported_media_type")


def test_an_unknown_content_type_names_the_accepted_ones():
    with pytest.raises(DomainError) as refused:
        ingest.parse(b"x", "application/xml")
    assert refused.value.code == "unsupported_media_type"
    assert "text/csv" in refused.value.message


def test_labels_are_row_ids_and_labels():
    parsed = ingest.parse(b"row_id,label\na,1\nb,0\n", "text/csv")
    assert ingest.labels_from(parsed) == {"a": "1", "b": "0"}
    with pytest.raises(DomainError, match="appears more than once"):
        ingest.labels_from(ingest.parse(b"row_id,label\na,1\na,0\n", "text/csv"))
    with pytest.raises(DomainError, match="row_id and label only"):
        ingest.labels_from(ingest.parse(b"row_id,label,x\na,1,2\n", "text/csv"))


# --- Properties -----------------------------------------------------------------------

names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=30,
    ),
)


@st.composite
def tables(draw):
    columns = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    length = draw(st.integers(min_value=0, max_value=8))
    return {c: draw(st.lists(cells, min_size=length, max_size=length)) for c in columns}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_json_columns_rows_and_ndjson_give_back_the_table(table):
    columnar = ingest.parse(orjson.dumps({"columns": table}), "application/json").columns
    assert columnar == table
    length = len(next(iter(table.values())))
    row_list = [{c: table[c][i] for c in table} for i in range(length)]
    if length:
        assert ingest.parse(orjson.dumps({"rows": row_list}), "application/json").columns == table
        ndjson = b"\n".join(orjson.dumps(row) for row in row_list)
        assert ingest.parse(ndjson, "application/x-ndjson").columns == table


@settings(max_examples=150, deadline=None)
@given(tables())
def test_csv_gives_back_the_text_of_every_cell(table):
    names = [n.strip() for n in table]
    if len(set(names)) != len(names) or not all(names) or any("\ufeff" in n for n in names):
        return
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(names)
    length = len(next(iter(table.values())))
    text = {
        n: ["" if v is None else str(v) for v in table[k]]
        for n, k in zip(names, table, strict=True)
    }
    for i in range(length):
        writer.writerow([text[n][i] for n in names])
    parsed = ingest.parse(out.getvalue().encode(), "text/csv").columns
    assert parsed == {n: [cell or None for cell in text[n]] for n in names}


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=300),
    st.sampled_from(["application/json", "application/x-ndjson", "text/csv"]),
)
def test_any_bytes_are_read_or_refused_never_a_crash(body, content_type):
    try:
        parsed = ingest.parse(body, content_type)
    except DomainError as refused:
        assert refused.message
    else:
        assert all(isinstance(v, list) for v in parsed.columns.values())


def test_native_parsers_survive_hostile_bytes_in_a_subprocess():
    script = textwrap.dedent(
        """
        import os, random, sys
        import django
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlprojects.settings")
        django.setup()
        from mlprojects.exceptions import DomainError
        from monitoring import ingest

        rng = random.Random(20261201)
        bodies = [
            b"[" * 200_000, b"{" * 200_000, b'{"rows": [' + b'{"x": 1},' * 50_000 + b"]}",
            b'"' * 100_000, b"\\\\u" * 50_000, b"\\xed\\xa0\\x80", b'{"a": "\\\\ud800"}',
            b"1e999999", b"-" * 10_000, b"x\\n" + b'"' * 100_001,
            b",".join([b"c"] * 999) + b"\\n" + b",".join([b"1"] * 999),
            b"\\r" * 100_000, b"\\x00" * 1000,
        ]
        for _ in range(300):
            bodies.append(bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2000))))
        read = refused = 0
        for body in bodies:
            for kind in ("application/json", "application/x-ndjson", "text/csv"):
                try:
                    ingest.parse(body, kind)
                    read += 1
                except DomainError:
                    refused += 1
        print(f"read={read} refused={refused}")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    read, refused = (int(part.split("=")[1]) for part in done.stdout.split())
    assert read + refused == 313 * 3 and refused > 0
