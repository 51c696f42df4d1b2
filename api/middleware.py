"""Refuse API bodies that are too large, or whose length is unknown, before reading them,
in the error shape of the API asked.

A body sent in chunks (``Transfer-Encoding: chunked``, no ``Content-Length``) reaches
Django with a length only when the WSGI server could read it whole first
(``mlprojects.wsgi``, under gunicorn); otherwise Django would see it as empty, and an
upload would be stored as an empty file. Such a request is refused with 411 instead.
"""

import re

from django.conf import settings
from django.http import JsonResponse

from api.exceptions import error_body

V1_PREFIX = "/api/v1/"
# The MLflow API answers at the root and under each project's tracking URI.
MLFLOW_PATH = re.compile(r"^(?:/projects/[^/]+)?(?P<path>/api/2\.0/.*)$")


def body_limit(path: str) -> int:
    """The largest body accepted at ``path``: the limit of the longest configured prefix
    (MLflow paths without their project prefix), else Django's own."""
    mlflow = MLFLOW_PATH.match(path)
    if mlflow:
        path = mlflow["path"]
    matches = [p for p in settings.MLPROJECTS_API_BODY_LIMITS if path.startswith(p)]
    if not matches:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return settings.MLPROJECTS_API_BODY_LIMITS[max(matches, key=len)]


def length_unknown(meta) -> bool:
    """A body announced by ``Transfer-Encoding`` alone, with no ``Content-Length``."""
    return bool(meta.get("HTTP_TRANSFER_ENCODING")) and not meta.get("CONTENT_LENGTH")


def declared_length(meta) -> int:
    """The ``Content-Length`` of a request, 0 when missing or not a number (as Django reads
    the body then)."""
    try:
        return max(int(meta.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class ApiBodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        mlflow = MLFLOW_PATH.match(request.path)
        if not mlflow and not request.path.startswith(V1_PREFIX):
            return self.get_response(request)
        if length_unknown(request.META):
            return self.refuse(
                mlflow,
                "length_required",
                "The request body came without a Content-Length header (chunked), which "
                "this server does not read: send it with its Content-Length.",
                status=411,
            )
        limit = body_limit(request.path)
        length = declared_length(request.META)
        if length > limit:
            message = f"The request body is {length} bytes; the limit is {limit} bytes."
            return self.refuse(mlflow, "too_large", message, status=413)
        return self.get_response(request)

    @staticmethod
    def refuse(mlflow, code: str, message: str, *, status: int) -> JsonResponse:
        if mlflow:
            body = {"error_code": "INVALID_PARAMETER_VALUE", "message": message}
        else:
            body = error_body(code, message)
        return JsonResponse(body, status=status)
