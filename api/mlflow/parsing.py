"""Reading MLflow requests: the JSON body of a POST, the query string of a GET, with MLflow's
type rules and its messages, and the opaque page tokens of its paged endpoints."""

import base64
import binascii
import json
import math
import re
from collections.abc import Callable
from typing import Any

import orjson
from django.http import HttpRequest

from api.mlflow.errors import invalid
from experiments.validation import SPECIAL_DOUBLES
from mlprojects.jsonbodies import TooDeep, check_depth

_SEE_DOCS = " See the API docs for more information about request parameters."
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19


def missing(name: str):
    return invalid(f"Missing value for required parameter '{name}'.{_SEE_DOCS}")


def wrong_type(name: str, value: Any):
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return invalid(
        f"Invalid value {shown} for parameter '{name}' supplied. Hint: Value was of type "
        f"'{type(value).__name__}'.{_SEE_DOCS}"
    )


def read_json(request: HttpRequest, *, limit: int, refuse: Callable[[int, int], Exception]) -> dict:
    """The body of a POST as a JSON object. MLflow accepts only ``application/json``; a body
    past ``limit`` is refused (with ``refuse(size, limit)``) before it is read."""
    content_type = request.content_type or ""
    if not request.META.get("CONTENT_TYPE"):
        raise invalid("Bad Request. Content-Type header is missing.")
    if content_type != "application/json":
        raise invalid("Bad Request. Content-Type must be one of ['application/json'].")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise refuse(length, limit)
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise refuse(len(raw), limit)
    if not raw.strip():
        return {}
    try:
        data = _loads(raw)
        if isinstance(data, str):  # older clients double-encode their JSON, MLflow accepts it
            data = _loads(data.encode())
        check_depth(data, raw=raw)
    except (RecursionError, TooDeep) as error:
        raise invalid(f"Malformed JSON request body: {TooDeep()}") from error
    except (ValueError, UnicodeError) as error:
        raise invalid(f"Malformed JSON request body: {error}") from error
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    return data


def _loads(raw: bytes) -> Any:
    """orjson for speed, the standard library for what orjson does not read as it does.

    The standard library's rules (and messages) are MLflow's server's: it reads the ``NaN``
    and ``Infinity`` tokens clients write for metric values, UTF-16 and UTF-32, and integers
    of any size, which orjson refuses or, past 64 bits, turns into floats. A run of 19
    digits is where that can start, so such a body goes to the standard library whole.
    """
    if _LONG_DIGIT_RUN in raw.translate(_DIGITS_TO_ZERO):
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def too_large(size: int, limit: int):
    return invalid(
        f"The request body is {size} bytes; this endpoint accepts at most {limit} bytes."
    )


class Fields:
    """Typed access to a request's fields, JSON (POST) or query string (GET); a query string
    carries only strings, so numbers are parsed from them as MLflow does."""

    def __init__(self, data, *, query: bool = False) -> None:
        self.data = data
        self.query = query

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def string(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                raise missing(name)
            return default
        if not isinstance(value, str):
            raise wrong_type(name, value)
        if required and value == "":
            raise missing(name)
        return value

    def integer(self, name: str, *, required: bool = False, default: int | None = None):
        return as_integer(self.data.get(name), name, required=required, default=default)

    def strings(self, name: str) -> list[str]:
        if self.query:
            return self.data.getlist(name)
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong_type(name, value)
        return value

    def objects(self, name: str) -> list[dict]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise wrong_type(name, value)
        return value


def as_integer(value: Any, name: str, *, required: bool = False, default: int | None = None):
    if value is None or value == "":
        if required:
            raise missing(name)
        return default
    if isinstance(value, bool):
        raise wrong_type(name, value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise invalid(f"Parameter '{name}' must be an integer, got '{value}'.{_SEE_DOCS}")


def as_enum(value: Any, name: str, numbers: dict[int, str]) -> str:
    """A protocol-buffer enum as clients send it: its name, or its number in ``numbers``."""
    if isinstance(value, str) and value in numbers.values():
        return value
    number = as_integer(value, name)
    if number not in numbers:
        raise invalid(f"Invalid value {value} for parameter '{name}' supplied.")
    return numbers[number]


def as_double(value: Any, name: str) -> float:
    """A JSON number, or a string as protocol buffers write doubles ("NaN", "-Infinity")."""
    if value is None:
        raise missing(name)
    if isinstance(value, bool):
        raise wrong_type(name, value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in SPECIAL_DOUBLES:
            return SPECIAL_DOUBLES[value]
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise wrong_type(name, value)


def key_values(items: list[dict], name: str) -> list[tuple[str, str]]:
    """``[{"key": ..., "value": ...}]`` (tags, params) as pairs; a key is required."""
    pairs = []
    for index, item in enumerate(items):
        key, value = item.get("key"), item.get("value", "")
        if key is None or key == "":
            raise missing(f"{name}[{index}].key")
        if not isinstance(key, str):
            raise wrong_type(f"{name}[{index}].key", key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise wrong_type(f"{name}[{index}].value", value)
        pairs.append((key, value))
    return pairs


# --- Page tokens ------------------------------------------------------------------------


def encode_token(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_token(token: str) -> dict:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise invalid(f"Invalid page token '{token}'.") from error
    if not isinstance(payload, dict):
        raise invalid(f"Invalid page token '{token}'.")
    return payload


def offset_from(token: str) -> int:
    if not token:
        return 0
    offset = decode_token(token).get("offset")
    if not isinstance(offset, int) or offset < 0:
        raise invalid(f"Invalid page token '{token}'.")
    return offset
