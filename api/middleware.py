"""Refuse oversized API bodies before reading them, with the API's error shape."""

from django.conf import settings
from django.http import JsonResponse

from api.exceptions import error_body

API_PREFIX = "/api/"


class ApiBodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX):
            limit = self.limit_for(request.path)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return JsonResponse(
                    error_body(
                        "too_large",
                        f"The request body is {length} bytes; the limit is {limit} bytes.",
                    ),
                    status=413,
                )
        return self.get_response(request)

    @staticmethod
    def limit_for(path: str) -> int:
        for prefix, limit in settings.MLPROJECTS_API_BODY_LIMITS.items():
            if path.startswith(prefix):
                return limit
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
