"""The one place where refusals become MLflow answers: ``{"error_code", "message"}`` with
the HTTP status MLflow's server uses for each code, so the mlflow client raises the same
``RestException`` it would against MLflow itself."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions

from mlprojects.exceptions import DomainError

logger = logging.getLogger(__name__)

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
BAD_REQUEST = "BAD_REQUEST"
INTERNAL_ERROR = "INTERNAL_ERROR"

# MLflow's own mapping (mlflow/exceptions.py ERROR_CODE_TO_HTTP_STATUS), for the codes used.
STATUS = {
    INVALID_PARAMETER_VALUE: 400,
    RESOURCE_ALREADY_EXISTS: 400,
    BAD_REQUEST: 400,
    UNAUTHENTICATED: 401,
    PERMISSION_DENIED: 403,
    RESOURCE_DOES_NOT_EXIST: 404,
    ENDPOINT_NOT_FOUND: 404,
    REQUEST_LIMIT_EXCEEDED: 429,
    INTERNAL_ERROR: 500,
}

# DomainError codes of experiments.services, as MLflow names them.
_DOMAIN_CODES = {
    "invalid": INVALID_PARAMETER_VALUE,
    "not_found": RESOURCE_DOES_NOT_EXIST,
    "already_exists": RESOURCE_ALREADY_EXISTS,
}


class MlflowError(Exception):
    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS.get(code, 400)


def invalid(message: str) -> MlflowError:
    return MlflowError(INVALID_PARAMETER_VALUE, message)


def not_found(message: str) -> MlflowError:
    return MlflowError(RESOURCE_DOES_NOT_EXIST, message)


def error_response(code: str, message: str, *, status: int | None = None) -> JsonResponse:
    return JsonResponse(
        {"error_code": code, "message": message}, status=status or STATUS.get(code, 400)
    )


def response_for(exc: Exception, *, authenticate_header: str | None = None) -> JsonResponse:
    """Every exception a view can meet, as MLflow's error body; unexpected ones are logged
    and answered ``INTERNAL_ERROR`` so the client never has to parse an HTML page."""
    if isinstance(exc, MlflowError):
        return error_response(exc.code, exc.message, status=exc.status)
    if isinstance(exc, DomainError):
        return error_response(_DOMAIN_CODES.get(exc.code, BAD_REQUEST), exc.message)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response = error_response(UNAUTHENTICATED, str(exc.detail))
        if authenticate_header:
            response["WWW-Authenticate"] = authenticate_header
        return response
    if isinstance(exc, exceptions.PermissionDenied):
        return error_response(PERMISSION_DENIED, str(exc.detail))
    if isinstance(exc, exceptions.Throttled):
        response = error_response(REQUEST_LIMIT_EXCEEDED, str(exc.detail))
        if exc.wait is not None:
            response["Retry-After"] = str(int(exc.wait) + 1)
        return response
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_response(BAD_REQUEST, str(exc.detail), status=405)
    if isinstance(exc, exceptions.APIException):
        return error_response(BAD_REQUEST, str(exc.detail), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return error_response(INVALID_PARAMETER_VALUE, "The request body is too large.", status=413)
    if isinstance(exc, Http404):
        return error_response(ENDPOINT_NOT_FOUND, "No such MLflow endpoint.")
    logger.exception("MLflow endpoint failed")
    return error_response(INTERNAL_ERROR, "The server failed to handle the request.")
