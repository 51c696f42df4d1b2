"""Failed sign-ins are throttled (django-axes): after too many, a username is locked out
from every address and an address for every username, on the dashboard's sign-in page and
the admin's alike, until the cool-off passes or someone lifts it in the admin. API tokens
are not passwords: they never count here, and keep their own throttle."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from api.services import token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
LIMIT = settings.AXES_FAILURE_LIMIT
HOME = "203.0.113.7"
ELSEWHERE = "203.0.113.99"
PAGES = {"dashboard": "login", "admin": "admin:login"}


@pytest.fixture(autouse=True)
def fresh_throttles():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def sign_in(page: str, username: str, password: str, *, address: str = HOME):
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse(PAGES[page]), {"username": username, "password": password})
    return client, response


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(page: str, username: str, times: int, *, address: str = HOME) -> list[int]:
    """The statuses of ``times`` wrong passwords: the form again (200) until the attempt
    that reaches the limit, which is answered with the lockout (429) itself."""
    return [sign_in(page, username, "wrong", address=address)[1].status_code for _ in range(times)]


@pytest.fixture
def user():
    return UserFactory(username="dana", password=PASSWORD, is_staff=True)


@pytest.mark.parametrize("page", PAGES)
def test_the_right_password_is_refused_after_too_many_wrong_ones(page, user):
    assert fail(page, "dana", LIMIT) == [200] * (LIMIT - 1) + [429]

    client, response = sign_in(page, "dana", PASSWORD)

    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()
    assert f"{LIMIT} failed attempts" in response.content.decode()
    assert not signed_in(client)


@pytest.mark.parametrize("page", PAGES)
def test_fewer_failures_than_the_limit_still_let_the_right_password_in(page, user):
    assert fail(page, "dana", LIMIT - 1) == [200] * (LIMIT - 1)

    client, response = sign_in(page, "dana", PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_a_success_starts_the_count_again(user):
    fail("dashboard", "dana", LIMIT - 1)
    assert signed_in(sign_in("dashboard", "dana", PASSWORD)[0])
    fail("dashboard", "dana", LIMIT - 1)

    assert signed_in(sign_in("dashboard", "dana", PASSWORD)[0])


def test_failures_on_both_pages_add_up(user):
    fail("dashboard", "dana", LIMIT - 2)
    fail("admin", "dana", 2)

    assert sign_in("admin", "dana", PASSWORD)[1].status_code == 429


def test_a_username_is_locked_from_every_address(user):
    for i in range(LIMIT):
        fail("dashboard", "dana", 1, address=f"203.0.113.{10 + i}")

    client, response = sign_in("dashboard", "dana", PASSWORD, address=ELSEWHERE)

    assert response.status_code == 429
    assert not signed_in(client)


def test_an_address_is_locked_for_every_username(user):
    for i in range(LIMIT):
        fail("dashboard", f"guess{i}", 1)

    assert sign_in("dashboard", "dana", PASSWORD)[1].status_code == 429
    # The same person from another address is not held back by what this one did.
    assert signed_in(sign_in("dashboard", "dana", PASSWORD, address=ELSEWHERE)[0])


def test_a_forwarded_for_header_does_not_change_the_address_counted(user):
    for i in range(LIMIT):
        client = Client(REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        client.post(reverse("login"), {"username": f"guess{i}", "password": "wrong"})

    assert sign_in("dashboard", "dana", PASSWORD)[1].status_code == 429


def test_the_lockout_ends_after_the_cool_off(user):
    fail("dashboard", "dana", LIMIT)
    assert sign_in("dashboard", "dana", PASSWORD)[1].status_code == 429

    past = dt.datetime.now(tz=dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)

    assert signed_in(sign_in("dashboard", "dana", PASSWORD)[0])


def test_the_lockout_is_visible_and_lifted_in_the_admin(user):
    fail("dashboard", "dana", LIMIT)
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "dana" in page
    assert HOME in page

    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert signed_in(sign_in("dashboard", "dana", PASSWORD)[0])


def test_a_locked_out_user_keeps_using_api_tokens(user):
    _, secret = token_create(user=user, name="ci")
    fail("dashboard", "dana", LIMIT)

    response = Client(REMOTE_ADDR=HOME, HTTP_AUTHORIZATION=f"Bearer {secret}").get(
        reverse("v1:project-list")
    )

    assert response.status_code == 200


def test_wrong_api_tokens_are_throttled_by_the_api_not_counted_as_sign_ins(user):
    client = Client(REMOTE_ADDR=HOME, HTTP_AUTHORIZATION="Bearer mlp_not-a-real-token")
    statuses = [client.get(reverse("v1:project-list")).status_code for _ in range(LIMIT * 3)]

    assert set(statuses) == {401}
    assert not AccessAttempt.objects.exists()
    assert signed_in(sign_in("dashboard", "dana", PASSWORD)[0])
