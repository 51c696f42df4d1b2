"""The one error shape of ``/api/v1/``, and the answer where there is no endpoint."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from api.exceptions import error_body


class ErrorSerializer(serializers.Serializer):
    """The one error shape of ``/api/v1/``."""

    code = serializers.CharField(help_text="Stable, machine-readable reason.")
    message = serializers.CharField(help_text="What went wrong, in words.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each bad input field with the rules it broke.",
    )
    details = serializers.JSONField(allow_null=True, help_text="More, where there is more.")


REFUSED = {409: OpenApiResponse(ErrorSerializer, description="Refused by the domain.")}


@csrf_exempt
def no_endpoint(request, *args, **kwargs):
    return JsonResponse(
        error_body("not_found", f"There is no endpoint at {request.path}; see /api/docs/."),
        status=404,
    )
