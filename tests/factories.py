"""factory_boy factories shared by every test module."""

import factory
from django.contrib.auth import get_user_model

from phases import services
from phases.models import LifecycleTemplate


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


def lifecycle(slug: str = "ml-development-phases") -> LifecycleTemplate:
    """One of the built-in lifecycles that the data migration loads."""
    return LifecycleTemplate.objects.get(slug=slug)


def make_project(*, owner=None, template: str = "ml-development-phases", **kwargs):
    """A project created the way users create one: through the service, from a template
    (``template`` is the lifecycle's slug; ``slug`` would be the project's own)."""
    owner = owner or UserFactory()
    kwargs.setdefault("name", f"Project {UserFactory._meta.next_sequence()}")
    return services.project_create(lifecycle=lifecycle(template), owner=owner, **kwargs)
