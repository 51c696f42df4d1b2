"""MLflow's rules for model names, aliases, versions, stages and tags, worded as MLflow words
them (``mlflow/utils/validation.py``). Every rule raises :class:`DomainError` with the code
``invalid``, which the MLflow layer answers with ``INVALID_PARAMETER_VALUE``."""

import posixpath
import re

from experiments.validation import RUN_ID, check_length, check_name, invalid, invalid_value
from registry.choices import Stage
from registry.models import (
    MAX_ALIAS_LENGTH,
    MAX_KEY_LENGTH,
    MAX_LOGGED_MODEL_NAME_LENGTH,
    MAX_MODEL_NAME_LENGTH,
    MAX_URI_LENGTH,
)

MAX_TAG_VALUE_LENGTH = 100_000
MAX_DESCRIPTION_LENGTH = 5000
MAX_PARAMS_PER_REQUEST = 100
MAX_TAGS_PER_REQUEST = 100

# A logged model's id as MLflow 3 makes it (``models.new_model_id``): ``m-`` and a uuid4's
# 32 lowercase hexadecimal digits, a run id's form. A value of any other form finds nothing.
MODEL_ID = re.compile(rf"m-{RUN_ID.pattern}")

_ALIAS = re.compile(r"[\w\-]*")
_VERSION_ALIAS = re.compile(r"[vV]\d+")
_LATEST = "latest"
_LOGGED_MODEL_NAME_FORBIDDEN = ("/", ":", ".", "%", '"', "'")
_STAGES = {stage.lower(): stage for stage in Stage.values}


def is_model_id(value: str) -> bool:
    return MODEL_ID.fullmatch(value) is not None


def missing(field: str):
    return invalid(field, f"Missing value for required parameter '{field}'.")


def check_model_name(name: str, *, field: str = "name") -> None:
    """A registered model's name: it appears in ``models:/<name>/...`` URIs."""
    if name is None or not name.strip():
        raise missing(field)
    if "/" in name or ":" in name:
        raise invalid(field, f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    normal = posixpath.normpath(name)
    if normal != name or normal == "." or normal.startswith(".."):
        raise invalid_value(
            field,
            name,
            "Names may be treated as files in certain cases, and must not resolve to other "
            f"names when treated as such. This name would resolve to {normal!r}",
        )
    check_length(field, name, MAX_MODEL_NAME_LENGTH)


def check_logged_model_name(name: str) -> None:
    if not name or any(char in name for char in _LOGGED_MODEL_NAME_FORBIDDEN):
        raise invalid(
            "name",
            f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
            f"and cannot contain the following characters: {_LOGGED_MODEL_NAME_FORBIDDEN}",
        )
    check_length("name", name, MAX_LOGGED_MODEL_NAME_LENGTH)


def check_alias(alias: str) -> None:
    if not alias:
        raise invalid("alias", "Registered model alias name cannot be empty.")
    if not _ALIAS.fullmatch(alias):
        raise invalid(
            "alias",
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-).",
        )
    check_length("Registered model alias name", alias, MAX_ALIAS_LENGTH)


def check_alias_not_reserved(alias: str) -> None:
    """What ``set`` refuses on top of :func:`check_alias`: names the client reads otherwise."""
    if alias.lower() == _LATEST:
        raise invalid("alias", "'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS.fullmatch(alias):
        raise invalid("alias", f"Version alias name '{alias}' is reserved.")


def version_number(value) -> int:
    """A version as the client sends it (a string of digits); MLflow's message otherwise."""
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise invalid("version", f"Parameter 'version' must be an integer, got '{value}'.")
    return int(text)


def canonical_stage(stage: str) -> str:
    found = _STAGES.get((stage or "").lower())
    if found is None:
        raise invalid(
            "stage",
            f"Invalid Model Version stage: {stage}. Value must be one of "
            f"{', '.join(Stage.values)}.",
        )
    return found


def check_tag(key: str, value: str, *, path: str = "") -> None:
    prefix = f"{path}." if path else ""
    if not key:
        raise missing(f"{prefix}key")
    check_name(key, field=f"{prefix}key")
    check_length(f"{prefix}key", key, MAX_KEY_LENGTH)
    check_length(f"{prefix}value", value, MAX_TAG_VALUE_LENGTH)


def check_description(description: str) -> None:
    check_length("description", description, MAX_DESCRIPTION_LENGTH)


def check_uri(field: str, uri: str) -> None:
    check_length(field, uri, MAX_URI_LENGTH)


def check_request_counts(*, params: int = 0, tags: int = 0) -> None:
    for subject, count, limit in (
        ("params", params, MAX_PARAMS_PER_REQUEST),
        ("tags", tags, MAX_TAGS_PER_REQUEST),
    ):
        if count > limit:
            raise invalid(
                subject,
                f"A request can contain at most {limit} {subject}. Got {count} {subject}.",
            )
