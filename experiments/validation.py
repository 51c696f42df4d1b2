"""MLflow's rules for names, values and batch sizes, worded as MLflow words them.

The numbers are MLflow's own (``mlflow/utils/validation.py``), so a batch the mlflow client
accepts is accepted here and one MLflow's server refuses is refused here too. Every rule
raises :class:`DomainError` with the code ``invalid``; the MLflow layer turns it into
``INVALID_PARAMETER_VALUE``.
"""

import json
import math
import posixpath
import re

from mlprojects.exceptions import DomainError

MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_LOG_REQUEST_SIZE = 1_000_000
MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_RUN_NAME_LENGTH = 250
MAX_DATASETS_PER_BATCH = 1000
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SOURCE_TYPE_SIZE = 36
MAX_DATASET_SOURCE_SIZE = 65535
MAX_DATASET_SCHEMA_SIZE = 1048575
MAX_DATASET_PROFILE_SIZE = 16777215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# A run id as MLflow makes it: a uuid4's 32 lowercase hexadecimal digits. A value of any
# other form finds nothing, before it reaches the database (which refuses some characters).
RUN_ID = re.compile(r"[0-9a-f]{32}")

# Protocol buffers' JSON spelling of the doubles JSON numbers cannot carry: what every
# endpoint writes for NaN and the infinities, and the strings it reads back as them.
SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# A CSV cell's spellings of an infinity: what Python's float() reads as one, "inf" or
# "infinity" in any case after a sign. A different rule from SPECIAL_DOUBLES, which are the
# exact strings a JSON body carries: a CSV cell is bare text, and spreadsheets and numpy
# write "inf". Any other cell float() reads as an infinity is a number too large for a
# double, which the bulk upload refuses instead of storing an infinity.
CSV_INFINITY_WORDS = frozenset({"inf", "infinity"})

# Slashes, word characters, periods, dashes, spaces and colons: names may become file names.
_NAME_CHARACTERS = re.compile(r"^[/\w.\- :]*$")


def is_run_id(value: str) -> bool:
    return RUN_ID.fullmatch(value) is not None


def csv_spells_infinity(cell: str) -> bool:
    """Whether ``cell`` spells an infinity in words, rather than as a number too large."""
    return cell.strip().lstrip("+-").lower() in CSV_INFINITY_WORDS


def double_json(value: float, is_nan: bool = False) -> float | str:
    """A double as JSON can carry it: the number, or its spelling in :data:`SPECIAL_DOUBLES`.
    ``is_nan``: the stored flag of a value kept as 0 because the database has no NaN."""
    if is_nan or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def invalid(field: str, message: str) -> DomainError:
    return DomainError("invalid", message, fields={field: [message]})


def csv_text(data: bytes, *, field: str) -> str:
    """An uploaded CSV as text: UTF-8 (a byte-order mark is dropped) and free of NUL bytes,
    which no CSV holds and which C parsers read as the end of a string."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        rule = f"must be UTF-8 text (byte {error.start} is not)"
        raise DomainError.invalid(field, rule) from None
    if "\x00" in text:
        raise DomainError.invalid(field, "is not a CSV file (it holds NUL bytes)")
    return text


def invalid_value(field: str, value, reason: str = "") -> DomainError:
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    tail = f": {reason}" if reason else "."
    return invalid(field, f"Invalid value {shown} for parameter '{field}' supplied{tail}")


def check_name(name: str, *, field: str = "key") -> None:
    """A metric, param or tag key: MLflow's characters, and no path that resolves elsewhere."""
    if not _NAME_CHARACTERS.match(name):
        raise invalid_value(
            field,
            name,
            "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
            "spaces ( ), colon(:) and slashes (/).",
        )
    normal = posixpath.normpath(name)
    if normal != name or normal == "." or normal.startswith(("..", "/")):
        raise invalid_value(
            field,
            name,
            "Names may be treated as files in certain cases, and must not resolve to other "
            f"names when treated as such. This name would resolve to {normal!r}",
        )


def check_length(subject: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise invalid(subject, f"'{subject}' exceeds the maximum length of {limit} characters")


def check_int64(field: str, value: int) -> None:
    if not INT64_MIN <= value <= INT64_MAX:
        raise invalid_value(field, value, "must fit in a 64-bit integer.")


def check_metric_key(key: str, *, path: str = "") -> None:
    """The key rules, checked once per distinct key of a batch: they are the costly part."""
    check_name(key, field=f"{path}.name" if path else "name")
    check_length("Metric name", key, MAX_ENTITY_KEY_LENGTH)


def check_metric_point(
    key: str, value: float, timestamp: int, step: int, *, path: str = ""
) -> None:
    prefix = f"{path}." if path else ""
    if type(value) is not float:
        raise invalid_value(f"{prefix}value", value, "Please specify value as a valid double.")
    for name, number in (("timestamp", timestamp), ("step", step)):
        if type(number) is not int:
            raise invalid_value(f"{prefix}{name}", number, "Please specify a 64-bit integer.")
    if timestamp < 0:
        raise invalid_value(
            f"{prefix}timestamp",
            timestamp,
            f"metric '{key}' (value={value}). Timestamp must be a nonnegative long "
            "(64-bit integer) ",
        )
    check_int64(f"{prefix}timestamp", timestamp)
    check_int64(f"{prefix}step", step)


def check_param(key: str, value: str, *, path: str = "") -> None:
    prefix = f"{path}." if path else ""
    check_name(key, field=f"{prefix}key")
    check_length("Param key", key, MAX_ENTITY_KEY_LENGTH)
    check_length("Param value", value, MAX_PARAM_VAL_LENGTH)


def check_tag(key: str, value: str, *, path: str = "") -> None:
    prefix = f"{path}." if path else ""
    check_name(key, field=f"{prefix}key")
    check_length(f"{prefix}key", key, MAX_ENTITY_KEY_LENGTH)
    check_length(f"{prefix}value", value, MAX_TAG_VAL_LENGTH)


def check_pairs(pairs, check, field: str) -> dict[str, str]:
    """Check each ``(key, value)`` of the list field ``field`` with ``check``, naming the
    item (``tags[2].key``); the last value of a key wins in what comes back."""
    for index, (key, value) in enumerate(pairs):
        check(key, value, path=f"{field}[{index}]")
    return dict(pairs)


def check_experiment_tag(key: str, value: str) -> None:
    check_name(key)
    check_length("key", key, MAX_EXPERIMENT_TAG_KEY_LENGTH)
    check_length("value", value, MAX_EXPERIMENT_TAG_VAL_LENGTH)


def check_experiment_name(name: str) -> None:
    if not name:
        raise invalid("name", f"Invalid experiment name: '{name}'")
    check_length("name", name, MAX_EXPERIMENT_NAME_LENGTH)


def check_batch_limits(*, metrics: int, params: int, tags: int) -> None:
    """MLflow's per-request caps on ``runs/log-batch``; the native bulk path has its own."""
    for subject, limit, count in (
        ("metrics", MAX_METRICS_PER_BATCH, metrics),
        ("params", MAX_PARAMS_TAGS_PER_BATCH, params),
        ("tags", MAX_PARAMS_TAGS_PER_BATCH, tags),
        ("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, metrics + params + tags),
    ):
        if count > limit:
            raise invalid(
                subject.split(",")[0],
                f"A batch logging request can contain at most {limit} {subject}. Got {count} "
                f"{subject}. Please split up {subject} across multiple requests and try again.",
            )


def batch_size_error(size: int) -> DomainError:
    return invalid(
        "body",
        f"Batched logging API requests must be at most {MAX_BATCH_LOG_REQUEST_SIZE} bytes, "
        f"got a request of size {size}.",
    )
