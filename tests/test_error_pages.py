"""With debug off, errors show the site's own pages, never Django's debug pages."""

import pytest
from django.test import Client
from django.urls import include, path


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("", include("mlprojects.urls"))]


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


@pytest.mark.urls("tests.test_error_pages")
def test_an_unhandled_error_is_the_branded_500_page(production, db):
    response = Client(raise_request_exception=False).get("/boom/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>Something went wrong</h1>" in page
    assert "mlprojects" in page
    assert "RuntimeError" not in page
    assert "Traceback" not in page


def test_a_missing_page_is_the_branded_404_page(production, db):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()
    assert "URLconf" not in response.content.decode()
