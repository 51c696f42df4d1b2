"""A project's models section and a version's page.

The section lists the project's registered models, each with its newest versions, which one
is at the project's production alias and since when, and each version's value of the
success metric against the target. Five or six queries whatever the number of models and
versions (one for a project without any): the models (``MODELS_SHOWN`` at most), the
production alias, their newest ``VERSIONS_SHOWN`` versions each (one windowed query; the
version at the production alias is always among them), their aliases, and their metrics
(``registry.selectors.many_version_metrics``: one more when logged models have their own).

The version page is the model card (``registry.cards``) and the success metric of every
version of the same model, for the chart that puts this one among the others.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import RowNumber

from phases.metrics import meets_target
from phases.models import Project
from registry import cards, selectors
from registry.models import DeploymentEvent, ModelAlias, ModelVersion, RegisteredModel
from registry.services import production_alias

VERSIONS_SHOWN = 5
MODELS_SHOWN = 20


@dataclass(frozen=True)
class VersionRow:
    version: ModelVersion
    aliases: list[str]
    value: float | None
    meets: bool | None
    in_production: bool
    since: dt.datetime | None
    registered: dt.datetime

    @property
    def number(self) -> int:
        return self.version.version


@dataclass(frozen=True)
class ModelRow:
    model: RegisteredModel
    versions: list[VersionRow]
    total: int

    @property
    def production(self) -> VersionRow | None:
        return next((row for row in self.versions if row.in_production), None)

    @property
    def hidden(self) -> int:
        return self.total - len(self.versions)


@dataclass(frozen=True)
class ProjectModels:
    production_alias: str
    metric: str
    target: float | None
    maximize: bool
    models: list[ModelRow]
    total: int

    @property
    def in_production(self) -> list[ModelRow]:
        return [row for row in self.models if row.production is not None]


def _judge(project: Project, value: float | None) -> bool | None:
    if value is None or project.success_target is None:
        return None
    return meets_target(value, project.success_target, maximize=project.maximizes)


def _rows(project: Project, versions: list[ModelVersion], alias: str) -> list[VersionRow]:
    """Rows of versions read with their aliases prefetched, metrics in two queries."""
    metrics = selectors.many_version_metrics(versions)
    rows = []
    for version in versions:
        aliases = sorted(version.aliases.all(), key=lambda a: a.alias)
        at = next((a for a in aliases if a.alias == alias), None)
        value = metrics[version.pk].get(project.success_metric) if project.success_metric else None
        rows.append(
            VersionRow(
                version=version,
                aliases=[a.alias for a in aliases],
                value=value,
                meets=_judge(project, value),
                in_production=at is not None,
                since=at.set_at if at is not None else None,
                registered=dt.datetime.fromtimestamp(version.creation_time / 1000, tz=dt.UTC),
            )
        )
    return rows


def project_models(*, project: Project) -> ProjectModels | None:
    """None when the project has registered no model."""
    models = list(
        RegisteredModel.objects.filter(project=project)
        .annotate(models=Window(expression=Count("pk")))
        .order_by("name", "pk")[:MODELS_SHOWN]
    )
    if not models:
        return None
    alias = production_alias(project)
    deployed = Exists(ModelAlias.objects.filter(model_version=OuterRef("pk"), alias=alias))
    # The version at the production alias ranks first in its model, then the newest, so
    # one windowed query reads both (Django filters on a window through a subquery).
    shown = list(
        ModelVersion.objects.filter(registered_model__in=models)
        .annotate(
            position=Window(
                expression=RowNumber(),
                partition_by=[F("registered_model_id")],
                order_by=[deployed.desc(), F("version").desc()],
            ),
            versions=Window(expression=Count("pk"), partition_by=[F("registered_model_id")]),
        )
        .filter(position__lte=VERSIONS_SHOWN)
        .select_related("run")
        .prefetch_related("aliases")
        .order_by("registered_model_id", "-version")
    )
    rows = dict(zip((v.pk for v in shown), _rows(project, shown, alias), strict=True))
    by_model: dict[int, list[VersionRow]] = {model.pk: [] for model in models}
    totals: dict[int, int] = {}
    for version in shown:
        by_model[version.registered_model_id].append(rows[version.pk])
        totals[version.registered_model_id] = version.versions
    return ProjectModels(
        production_alias=alias,
        metric=project.success_metric,
        target=project.success_target,
        maximize=project.maximizes,
        models=[
            ModelRow(model=model, versions=by_model[model.pk], total=totals.get(model.pk, 0))
            for model in models
        ],
        total=models[0].models,
    )


# --- The version page -------------------------------------------------------------------

SIBLINGS_SHOWN = 30


@dataclass(frozen=True)
class VersionPage:
    card: cards.Card
    siblings: list[VersionRow]
    metric: str
    target: float | None
    maximize: bool

    @property
    def row(self) -> VersionRow:
        return next(row for row in self.siblings if row.version.pk == self.card.version.pk)

    @property
    def deployments(self) -> list[tuple[DeploymentEvent, float | None]]:
        """Each move of the production alias with the success metric the version had."""
        return [(event, event.metrics.get(self.metric)) for event in self.card.deployments]


def project_version(*, project: Project, name: str, number: int) -> QuerySet[ModelVersion]:
    """Version ``number`` of the project's model ``name``, as the dashboard's URLs name it
    (empty when there is no such version)."""
    return ModelVersion.objects.filter(
        registered_model__project=project, registered_model__name=name, version=number
    )


def version_page(*, project: Project, name: str, number: int) -> VersionPage | None:
    """The card of version ``number`` of the project's model ``name``, and the versions
    around it (``SIBLINGS_SHOWN``) for the chart; None when there is no such version."""
    version = project_version(project=project, name=name, number=number).only("pk").first()
    if version is None:
        return None
    card = cards.model_card(version)
    half = SIBLINGS_SHOWN // 2
    siblings = list(
        ModelVersion.objects.filter(
            registered_model_id=card.version.registered_model_id,
            version__gte=number - half,
            version__lt=number + half,
        )
        .select_related("run")
        .prefetch_related("aliases")
        .order_by("version")
    )
    return VersionPage(
        card=card,
        siblings=_rows(project, siblings, card.production_alias),
        metric=project.success_metric,
        target=project.success_target,
        maximize=project.maximizes,
    )
