"""What the admin scope tests of every app share: a manager of project A, who is only a
contributor on project B, and the checks that each admin shows, opens and acts on A's rows
and nothing of B's (``phases.admin.common.ManagedProjectsMixin``)."""

from dataclasses import dataclass

from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from phases import services
from phases.choices import Role
from phases.models import Project
from tests.factories import UserFactory, make_project

# Longer than any admin page's own words, so finding it on a page means B leaked.
HIDDEN = "Bravo Hidden Initiative"


@dataclass
class World:
    manager: object
    root: object
    a: Project
    b: Project


def build_world() -> World:
    manager = UserFactory(username="morgan", first_name="Morgan", is_staff=True)
    boss = UserFactory(username="priya", first_name="Priya")
    a = make_project(owner=manager, name="Alpha")
    b = make_project(owner=boss, name=HIDDEN)
    # A member of B, but not its manager: membership alone opens nothing in the admin.
    services.membership_set(project=b, user=manager, role=Role.CONTRIBUTOR)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    return World(manager=manager, root=root, a=a, b=b)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(model, view: str, *args) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def rows_of(model, project: Project) -> set[int]:
    """The rows of ``model`` in ``project``, found along the path its admin follows."""
    path = admin.site._registry[model].project_path
    return set(model.objects.filter(**{path: project}).values_list("pk", flat=True))


def listed(client: Client, model, **query) -> tuple[set[int], str]:
    response = client.get(url(model, "changelist"), query)
    assert response.status_code == 200, model
    return {row.pk for row in response.context["cl"].result_list}, response.content.decode()


def autocomplete(client: Client, model, field: str, term: str = "") -> set[str]:
    """The ids Django's autocomplete offers for ``model.field``, as its widget asks them."""
    meta = model._meta
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": meta.app_label,
            "model_name": meta.model_name,
            "field_name": field,
            "term": term,
        },
    )
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def ids(queryset) -> set[str]:
    """Primary keys as the autocomplete answers them."""
    return {str(pk) for pk in queryset.values_list("pk", flat=True)}


def stored(model, pk: int) -> dict:
    return model.objects.filter(pk=pk).values().get()


def check_scoped(world: World, model, *, max_queries: int = 12) -> None:
    """As A's manager: the list holds A's rows only and names nothing of B (its filters
    neither); B's rows do not open, change, delete or show their history; the list's
    queries stay within ``max_queries``. The superuser lists both."""
    mine, theirs = rows_of(model, world.a), rows_of(model, world.b)
    assert mine and theirs, f"the world needs rows of {model.__name__} in both projects"
    manager = client_for(world.manager)
    manager.get(url(model, "changelist"))
    with CaptureQueriesContext(connection) as queries:
        shown, html = listed(manager, model)
    assert shown == mine, model
    assert HIDDEN not in html, model
    assert len(queries) <= max_queries, (model, len(queries))
    assert manager.get(url(model, "change", next(iter(mine)))).status_code == 200
    index = reverse("admin:index")
    for pk in theirs:
        before = stored(model, pk)
        opened = manager.get(url(model, "change", pk))
        assert (opened.status_code, opened.get("Location")) == (302, index), model
        posted = manager.post(url(model, "change", pk), {"name": "Taken over", "enabled": ""})
        assert posted.status_code in (302, 403), model
        assert manager.get(url(model, "delete", pk)).status_code == 403, model
        assert manager.post(url(model, "delete", pk), {"post": "yes"}).status_code == 403, model
        assert manager.get(url(model, "history", pk)).status_code == 302, model
        assert stored(model, pk) == before, model
    assert listed(client_for(world.root), model)[0] == mine | theirs, model


def check_add_refused(world: World, model, data: dict, *, foreign: dict) -> None:
    """Adding a row with ``data`` but a foreign key of B (``foreign``) is refused on the
    form, naming the field, and stores nothing; with A's keys (``data``) it is stored."""
    manager = client_for(world.manager)
    before = model.objects.count()
    refused = manager.post(url(model, "add"), {**data, **foreign})
    assert refused.status_code == 200, model
    errors = refused.context["adminform"].form.errors
    assert set(foreign) <= set(errors), errors
    assert "Select a valid choice" in str(errors)
    assert model.objects.count() == before
    added = manager.post(url(model, "add"), data)
    assert added.status_code == 302, added.content.decode()[:3000]
    assert model.objects.count() == before + 1
