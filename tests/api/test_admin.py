"""API tokens in the admin: the superuser sees every token; the manager of project A sees
the tokens bound to A, whoever owns them, and their own, never someone else's token of
another project or of no project; revoking acts on those alone; nobody adds one here."""

import pytest

from api import services
from api.models import ApiToken
from tests.admin_scope import build_world, client_for, listed, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = build_world()
    boss = world.b.owner
    make = services.token_create
    world.ci_of_a = make(user=boss, name="ci of a", project=world.a)[0]
    world.own = make(user=world.manager, name="laptop")[0]
    world.hidden = [
        make(user=boss, name="ci of b", project=world.b)[0],
        make(user=boss, name="boss laptop")[0],
    ]
    return world


def test_a_manager_sees_the_tokens_of_their_projects_and_their_own(world):
    manager = client_for(world.manager)
    shown, html = listed(manager, ApiToken)
    assert shown == {world.ci_of_a.pk, world.own.pk}
    assert "boss laptop" not in html and "ci of b" not in html
    for token in world.hidden:
        assert manager.get(url(ApiToken, "change", token.pk)).status_code == 302
        assert manager.get(url(ApiToken, "delete", token.pk)).status_code == 403
    assert manager.get(url(ApiToken, "change", world.own.pk)).status_code == 200
    assert manager.get(url(ApiToken, "add")).status_code == 403
    everything = set(ApiToken.objects.values_list("pk", flat=True))
    assert listed(client_for(world.root), ApiToken)[0] == everything


def test_revoking_acts_on_the_tokens_the_manager_sees_only(world):
    every = list(ApiToken.objects.values_list("pk", flat=True))
    client_for(world.manager).post(
        url(ApiToken, "changelist"), {"action": "revoke", "_selected_action": every}
    )
    revoked = set(ApiToken.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True))
    assert revoked == {world.ci_of_a.pk, world.own.pk}
