"""Refuse oversized API bodies before reading them, in the error shape of the API asked."""

import re

from django.conf import settings
from django.http import JsonResponse

from api.exceptions import error_body

V1_PREFIX = "/api/v1/"
# The MLflow API answers at the root and under each project's tracking URI.
MLFLOW_PATH = re.compile(r"^(?:/projects/[^/]+)?(?P<path>/api/2\.0/.*)$")


class ApiBodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        mlflow = MLFLOW_PATH.match(request.path)
        if mlflow or request.path.startswith(V1_PREFIX):
            path = mlflow["path"] if mlflow else request.path
            limit = self.limit_for(path)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                message = f"The request body is {length} bytes; the limit is {limit} bytes."
                if mlflow:
                    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": message}
                else:
                    body = error_body("too_large", message)
                return JsonResponse(body, status=413)
        return self.get_response(request)

    @staticmethod
    def limit_for(path: str) -> int:
        """The limit of the longest configured prefix of ``path``."""
        matches = [p for p in settings.MLPROJECTS_API_BODY_LIMITS if path.startswith(p)]
        if not matches:
            return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return settings.MLPROJECTS_API_BODY_LIMITS[max(matches, key=len)]
