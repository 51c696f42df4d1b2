"""MLflow request bodies are read with orjson where it reads them as the standard library
does, and by the standard library everywhere else: the same values, the same refusals."""

import json

import pytest
from django.test import RequestFactory

from api.mlflow.errors import MlflowError
from api.mlflow.parsing import read_json, too_large
from phases.choices import Role
from tests.experiments.helpers import api, error, send

LIMIT = 2**20


def read(raw: bytes) -> dict:
    request = RequestFactory().generic("POST", "/", raw, content_type="application/json")
    return read_json(request, limit=LIMIT, refuse=too_large)


def same(a, b) -> bool:
    """Equal, NaN included, and of the same types all the way down."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and repr(a) == repr(b)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"run_id": "abc", "metrics": [{"key": "m", "value": 0.1, "timestamp": 1, "step": 0}]}',
        b'{"value": NaN, "up": Infinity, "down": -Infinity}',
        b'{"big": 100000000000000000001, "small": -9223372036854775809}',
        b'{"edge": 18446744073709551615, "low": -9223372036854775808, "float": 1e400}',
        b'{"s": "\\ud800", "dup": 1, "dup": 2, "nested": {"a": [1, 2.5, "x", null, true]}}',
        '\ufeff{"bom": 1}'.encode(),
        '{"wide": "\u00e9"}'.encode("utf-16"),
        b'"{\\"legacy\\": 1}"',
    ],
)
def test_bodies_read_as_the_standard_library_reads_them(raw):
    expected = json.loads(raw)
    if isinstance(expected, str):
        expected = json.loads(expected)
    assert same(read(raw), expected)


@pytest.mark.parametrize("raw", [b"{not json", b'{"a": 1,}', b'{"a": nan}', b"\xff\xfe\xfd"])
def test_malformed_bodies_keep_the_standard_librarys_message(raw):
    try:
        json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        expected = f"Malformed JSON request body: {error}"
    with pytest.raises(MlflowError) as refused:
        read(raw)
    assert refused.value.message == expected


@pytest.mark.django_db
def test_nan_and_infinity_tokens_log_as_metric_values(world):
    client = world.client(Role.MANAGER)
    run_id = world.run.run_id
    url = api("mlflow/runs/log-batch", project=world.project.slug)
    body = (
        f'{{"run_id": "{run_id}", "metrics": ['
        '{"key": "loss", "value": NaN, "timestamp": 5, "step": 1},'
        '{"key": "auc", "value": Infinity, "timestamp": 5, "step": 1},'
        '{"key": "gap", "value": -Infinity, "timestamp": 5, "step": 1}]}'
    )
    assert client.generic("POST", url, body, content_type="application/json").status_code == 200
    url = api("mlflow/runs/log-metric", project=world.project.slug)
    body = f'{{"run_id": "{run_id}", "key": "drift", "value": NaN, "timestamp": 5}}'
    assert client.generic("POST", url, body, content_type="application/json").status_code == 200

    url = api("mlflow/runs/get", project=world.project.slug)
    got = send(client, "GET", url, {"run_id": run_id})
    values = {m["key"]: m["value"] for m in got.json()["run"]["data"]["metrics"]}
    assert {k: values[k] for k in ("loss", "auc", "gap", "drift")} == {
        "loss": "NaN",
        "auc": "Infinity",
        "gap": "-Infinity",
        "drift": "NaN",
    }


@pytest.mark.django_db
def test_integers_past_64_bits_are_refused_with_their_exact_value(world):
    client, run_id = world.client(Role.MANAGER), world.run.run_id
    url = api("mlflow/runs/log-batch", project=world.project.slug)
    for field, number in (("step", 10**20 + 1), ("timestamp", -(2**63) - 1)):
        metric = {"key": "m", "value": 1.0, "timestamp": 1, "step": 0, field: number}
        response = send(client, "POST", url, {"run_id": run_id, "metrics": [metric]})
        assert error(response) == (400, "INVALID_PARAMETER_VALUE")
        assert (
            f"Invalid value {number} for parameter 'metrics[0].{field}'"
            in (response.json()["message"])
        )
