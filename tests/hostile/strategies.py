"""Hypothesis strategies for hostile request bodies and for metric uploads.

``hostile(corpus)`` mixes the fixed corpus with its mutations (truncated anywhere, a byte
changed, a hostile fragment spliced in) and arbitrary bytes and JSON values. ``uploads()``
draws metric points and writes them in one of the three bulk formats, sometimes with a
spelling only one parser might take (``0x10``, ``1_000``, ``1e400``, padding), so the fast
and the exact parser can be held to one answer.
"""

import json
import math

from hypothesis import strategies as st

from tests.hostile import corpus

FRAGMENTS = [
    b"null",
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"\r",
    b'"',
    b",",
    b"[" * 200,
    b"1e400",
    b"9223372036854775808",
    b"NaN",
    b"{",
    b"}",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def _mutated(draw, samples: list[bytes]) -> bytes:
    body = draw(st.sampled_from(samples))
    at = draw(st.integers(0, len(body)))
    how = draw(st.sampled_from(["truncate", "replace", "splice", "repeat"]))
    if how == "truncate":
        return body[:at]
    if how == "replace" and body:
        index = min(at, len(body) - 1)
        return body[:index] + bytes([draw(st.integers(0, 255))]) + body[index + 1 :]
    if how == "repeat":
        return body + body[:at]
    return body[:at] + draw(st.sampled_from(FRAGMENTS)) + body[at:]


def hostile(samples: dict[str, bytes]) -> st.SearchStrategy[bytes]:
    """Bodies like ``samples``, the fixed corpus of one format, and worse."""
    values = list(samples.values())
    return st.one_of(
        st.sampled_from(values),
        _mutated(values),
        st.binary(max_size=300),
        json_values.map(lambda value: json.dumps(value).encode()),
    )


def hostile_json() -> st.SearchStrategy[bytes]:
    return hostile(corpus.JSON)


# --- Metric uploads ---------------------------------------------------------------------

KEYS = st.sampled_from(["loss", "val_auc", "lr", "a/b", "x y", "ключ"])
INT64 = 2**63 - 1
steps = st.one_of(st.integers(0, 1000), st.integers(-(2**63), INT64), st.just(INT64))
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, -0.0, 1.0, 1e308, 5e-324, math.inf, -math.inf]),
)
points = st.lists(st.tuples(KEYS, steps, steps, values), min_size=1, max_size=30)

# How a number may be written: each is valid in some parser's eyes, not necessarily all.
INT_SPELLINGS = ["plain", "padded", "plus", "hex", "underscore", "float", "huge"]
FLOAT_SPELLINGS = ["repr", "exponent", "padded", "huge", "word"]


def _int(value: int, spelling: str) -> str:
    return {
        "plain": str(value),
        "padded": f" {value} ",
        "plus": f"+{value}" if value >= 0 else str(value),
        "hex": hex(value),
        "underscore": f"{value:_}",
        "float": f"{value}.0",
        "huge": f"{value}{'0' * 30}",
    }[spelling]


def _float(value: float, spelling: str) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return {
        "repr": repr(value),
        "exponent": f"{value:e}",
        "padded": f" {value!r} ",
        "huge": "1e400",
        "word": "many",
    }[spelling]


@st.composite
def uploads(draw) -> tuple[str, bytes]:
    """``(media type, body)``: points in CSV, NDJSON or columnar JSON. Most are written
    plainly; some use one odd spelling of one number, which either both parsers take, or
    both refuse."""
    drawn = draw(points)
    media_type = draw(st.sampled_from(["text/csv", "application/x-ndjson", "application/json"]))
    odd = draw(
        st.none()
        | st.tuples(st.integers(0, len(drawn) - 1), st.sampled_from(["step", "timestamp", "value"]))
    )
    int_spelling = draw(st.sampled_from(INT_SPELLINGS))
    float_spelling = draw(st.sampled_from(FLOAT_SPELLINGS))

    def spell(index: int, field: str, number) -> str:
        if odd != (index, field):
            return _float(number, "repr") if field == "value" else str(number)
        if field == "value":
            return _float(number, float_spelling)
        return _int(number, int_spelling)

    rows = [
        (key, spell(i, "step", step), spell(i, "timestamp", stamp), spell(i, "value", value))
        for i, (key, step, stamp, value) in enumerate(drawn)
    ]
    if media_type == "text/csv":
        lines = ["key,step,timestamp,value"]
        lines += [",".join([_csv_key(key), step, stamp, value]) for key, step, stamp, value in rows]
        return media_type, ("\n".join(lines) + "\n").encode()
    if media_type == "application/x-ndjson":
        lines = [
            f'{{"key": {json.dumps(key)}, "step": {_json_number(step)}, '
            f'"timestamp": {_json_number(stamp)}, "value": {_json_number(value)}}}'
            for key, step, stamp, value in rows
        ]
        return media_type, ("\n".join(lines) + "\n").encode()
    columns = {
        "key": "[" + ", ".join(json.dumps(key) for key, *_ in rows) + "]",
        "step": "[" + ", ".join(_json_number(step) for _, step, _, _ in rows) + "]",
        "timestamp": "[" + ", ".join(_json_number(stamp) for _, _, stamp, _ in rows) + "]",
        "value": "[" + ", ".join(_json_number(value) for *_, value in rows) + "]",
    }
    body = "{" + ", ".join(f'"{name}": {array}' for name, array in columns.items()) + "}"
    return media_type, body.encode()


def _csv_key(key: str) -> str:
    return f'"{key}"' if any(char in key for char in ',"\n ') else key


def _json_number(text: str) -> str:
    """A spelling that is not a JSON number is sent as a JSON string of it, as a careless
    client would (``"step": "0x10"``); NaN and infinities as the strings MLflow uses."""
    stripped = text.strip()
    try:
        json.loads(stripped)
    except ValueError:
        return json.dumps(stripped)
    return stripped if stripped == text else json.dumps(text)
