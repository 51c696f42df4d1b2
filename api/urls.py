from django.urls import include, path
from django.views.decorators.gzip import gzip_page
from drf_spectacular.views import SpectacularAPIView

from api.schema import DocsView

urlpatterns = [
    path("v1/", include("api.v1.urls")),
    # The schema is the API docs' largest download (700 KB of JSON, a tenth of that
    # compressed); it holds no secret, so compressing it reveals nothing.
    path("schema/", gzip_page(SpectacularAPIView.as_view()), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own, so the page
    # needs no inline script under the Content-Security-Policy.
    path(
        "docs/",
        DocsView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
]
