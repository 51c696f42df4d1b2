"""The one place where refusals become HTTP answers for ``/api/v1/``.

Every error has the same JSON shape: a stable ``code``, a ``message`` for people, ``fields``
mapping each bad input field to the rules it broke, and ``details`` where there is more
(the unmet criteria of a gate, for example).
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from mlprojects.exceptions import DomainError


def error_body(code: str, message: str, *, fields=None, details=None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}, "details": details}


def _flatten(data, path: str = "") -> dict[str, list[str]]:
    """DRF's nested validation errors as ``{"field.sub": ["rule", ...]}``."""
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for key, value in data.items():
            name = "non_field_errors" if key == "non_field_errors" and not path else str(key)
            flat.update(_flatten(value, f"{path}.{name}" if path else name))
        return flat
    if isinstance(data, list) and data and all(isinstance(item, str) for item in data):
        return {path or "non_field_errors": [str(item) for item in data]}
    if isinstance(data, list):
        flat = {}
        for index, item in enumerate(data):
            flat.update(_flatten(item, f"{path}.{index}" if path else str(index)))
        return flat
    return {path or "non_field_errors": [str(data)]}


_STATUS_BY_CODE = {"invalid": status.HTTP_400_BAD_REQUEST, "not_found": status.HTTP_404_NOT_FOUND}


def _status_for(error: DomainError) -> int:
    """Bad input is 400, something missing 404; any other refusal conflicts with the state."""
    return _STATUS_BY_CODE.get(error.code, status.HTTP_409_CONFLICT)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.code, exc.message, fields=exc.fields, details=exc.details),
            status=_status_for(exc),
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = exceptions.APIException("The request body is too large.")
        exc.status_code, exc.default_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too_large"
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        summary = "; ".join(f"{name}: {' '.join(rules)}" for name, rules in fields.items())
        response.data = error_body("invalid", f"Invalid input. {summary}", fields=fields)
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        detail = getattr(exc, "detail", response.data)
        response.data = error_body(
            code if isinstance(code, str) else "error",
            str(detail.get("detail", detail) if isinstance(detail, dict) else detail),
        )
    return response
