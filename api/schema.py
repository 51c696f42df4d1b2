"""OpenAPI additions: the bearer token scheme, the error answers of every operation, and
the docs page.

drf-spectacular documents success bodies from the views; the error shape is the same
everywhere, so it is added here once rather than on each of the many operations.
"""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI on the schema. A browser that is not signed in is sent to sign in and
    back, as every page does; a client that asks for anything but HTML gets the API's 401."""

    def handle_exception(self, exc):
        wants_page = "text/html" in self.request.headers.get("Accept", "")
        if isinstance(exc, NotAuthenticated) and wants_page:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from `/api/v1/tokens/`.",
        }


ERROR_REF = {"$ref": "#/components/schemas/Error"}

COMMON = {
    "400": "Invalid input: `fields` names each bad field and the rule it broke.",
    "401": "Not authenticated: send `Authorization: Bearer <token>` or sign in.",
    "403": "Your role on the project does not allow this.",
    "404": "No such object among the projects you can see.",
    "405": "Method not allowed; the `Allow` header lists the allowed ones.",
    "413": "The request body is too large.",
    "429": "Too many requests; retry after the `Retry-After` header's seconds.",
}


def _is_paginated_list(responses: dict) -> bool:
    schema = responses.get("200", {}).get("content", {}).get("application/json", {})
    return schema.get("schema", {}).get("$ref", "").startswith("#/components/schemas/Paginated")


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "details": {"nullable": True},
            },
            "required": ["code", "message", "fields", "details"],
        },
    )
    for route, path in result.get("paths", {}).items():
        if not route.startswith("/api/v1/"):  # the MLflow layer answers in MLflow's own shape
            continue
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if _is_paginated_list(responses):
                # Filters, search, ordering and paging all read "" as "not given".
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "query" and not parameter.get("required"):
                        parameter["allowEmptyValue"] = True
            for code, description in COMMON.items():
                if code == "413" and method not in ("post", "put", "patch"):
                    continue
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": ERROR_REF}},
                    },
                )
            if method in ("post", "put", "patch", "delete"):
                responses.setdefault(
                    "409",
                    {
                        "description": "Refused by the domain: `code` says why, `details` "
                        "carries more (the unmet criteria of a gate).",
                        "content": {"application/json": {"schema": ERROR_REF}},
                    },
                )
    return result
