"""factory_boy factories shared by every test module."""

import factory
from django.contrib.auth import get_user_model

from phases import services
from phases.choices import ReviewStatus, TaskStatus
from phases.models import LifecycleTemplate, Outcome, Phase, Project


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


def complete(phase: Phase, *, by) -> None:
    """Do what the gate of ``phase`` asks: its required tasks done, its outcomes accepted."""
    for task in phase.tasks.filter(required=True):
        services.task_set_status(task=task, status=TaskStatus.DONE, by=by)
    for outcome in phase.outcomes.filter(required=True).exclude(
        review_status=ReviewStatus.ACCEPTED
    ):
        services.outcome_accept(outcome=outcome, by=by)


def fresh(project: Project) -> Project:
    """``project`` read again, with its current phase."""
    return Project.objects.select_related("current_phase").get(pk=project.pk)


def to_last_phase(project: Project) -> Project:
    """Walk to Productionization; its monitors outcome is waived (not required), as a
    sponsor may agree when production is watched elsewhere."""
    for _ in range(3):
        project = fresh(project)
        complete(project.current_phase, by=project.owner)
        services.phase_advance(project=project, by=project.owner)
    project = fresh(project)
    for outcome in Outcome.objects.filter(phase=project.current_phase, evidence_rule__gt=""):
        services.outcome_update(outcome=outcome, by=project.owner, required=False)
    return project
