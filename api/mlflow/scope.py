"""Which project an MLflow request addresses, and the caller's role on what it touches.

A client reaches one project through its tracking URI, ``http://host/projects/<slug>``: the
MLflow URL set is mounted under that prefix. At the root, ``http://host``, a token bound to
one project addresses that project; an unbound token or a browser session spans every
project the caller may see, which is fine for reads and refused for creates (which project
would get the new experiment?). Experiment id ``0`` is the default experiment of the
addressed project, so it too needs one.

Rows are found through ``api.permissions.scoped``, so an outsider's lookups come back empty
and the answer is ``RESOURCE_DOES_NOT_EXIST``, never a hint that the project exists; a
member whose role is too low gets ``PERMISSION_DENIED``.

The addressed project is looked up on first use, not per request: the logging endpoints,
which most of the traffic is, reach their run in one query that also checks the project
(``run_to_write``), and look the project up only to explain a miss.
"""

import re
from functools import cached_property

from django.db.models import F, QuerySet
from rest_framework.request import Request

from api.mlflow.errors import invalid, not_found
from api.models import ApiToken
from api.permissions import require, scoped
from experiments import selectors, services, validation
from experiments.choices import LifecycleStage
from experiments.models import Experiment, Run
from phases.models import Project
from phases.roles import Action
from registry import selectors as registry_selectors
from registry import validation as registry_validation
from registry.models import LoggedModel, ModelVersion, RegisteredModel

_EXPERIMENT_ID = re.compile(r"[0-9]{1,18}")
# What the writes of a run's data read from the run they are given; the rest stays deferred.
_RUN_WRITE_COLUMNS = ("id", "run_id", "lifecycle_stage", "name", "experiment_id")


class Scope:
    def __init__(self, request: Request, project_slug: str | None) -> None:
        self.request = request
        self.project_slug = project_slug

    @cached_property
    def project(self) -> Project | None:
        """The addressed project; ``RESOURCE_DOES_NOT_EXIST`` when the caller cannot see it."""
        projects = scoped(self.request, Project.objects.all())
        if self.project_slug is not None:
            project = projects.filter(slug=self.project_slug).first()
            if project is None:
                raise not_found(f"Project '{self.project_slug}' does not exist.")
            return project
        token = self.request.auth
        if isinstance(token, ApiToken) and token.project_id is not None:
            project = projects.filter(pk=token.project_id).first()
            if project is None:
                raise not_found("The project of this token does not exist or is not yours.")
            return project
        return None

    def check_project(self) -> None:
        """Refuse an unreachable addressed project, for endpoints that look up nothing else."""
        _ = self.project

    @property
    def zero_is_default(self) -> bool:
        return self.project is not None

    def require_project(self, doing: str) -> Project:
        if self.project is None:
            base = self.request.build_absolute_uri("/").rstrip("/")
            raise invalid(
                f"Cannot {doing} here: this tracking URI spans every project you can see. "
                f"Use the project's tracking URI, {base}/projects/<project slug>, or a "
                "token bound to the project."
            )
        return self.project

    def allow(self, role: str | None, action: Action, subject: str) -> None:
        require(role, action, subject)

    # --- Experiments --------------------------------------------------------------------

    def experiments(self) -> QuerySet[Experiment]:
        queryset = scoped(self.request, Experiment.objects.all(), project_path="project")
        if self.project is not None:
            queryset = queryset.filter(project=self.project)
        return queryset

    def default_experiment(self) -> Experiment:
        project = self.require_project("use the default experiment (ID 0)")
        return services.ensure_default_experiment(project=project)

    def experiment(self, experiment_id: str, action: Action) -> Experiment:
        queryset = self.experiments().select_related("project").prefetch_related("tags")
        if experiment_id == "0":
            found = queryset.filter(pk=self.default_experiment().pk).first()
        elif _EXPERIMENT_ID.fullmatch(experiment_id or ""):
            found = queryset.filter(pk=int(experiment_id)).first()
        else:
            found = None
        if found is None:
            raise not_found(f"No Experiment with id={experiment_id} exists")
        self.allow(found.caller_role, action, f"project {found.project.slug}")
        return found

    def experiment_pks(self, experiment_ids: list[str]) -> list[int]:
        """Search's experiment ids as primary keys; the scope filters out what is not visible."""
        pks = []
        for experiment_id in experiment_ids:
            if experiment_id == "0":
                pks.append(self.default_experiment().pk)
            elif _EXPERIMENT_ID.fullmatch(experiment_id):
                pks.append(int(experiment_id))
            else:
                raise invalid(
                    f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid "
                    "integer."
                )
        return pks

    # --- Runs ---------------------------------------------------------------------------

    def runs(self) -> QuerySet[Run]:
        queryset = scoped(self.request, Run.objects.all(), project_path="experiment__project")
        if self.project is not None:
            queryset = queryset.filter(experiment__project=self.project)
        return queryset

    def run(self, run_id: str, action: Action, *, with_data: bool = False) -> Run:
        queryset = self.runs().select_related("experiment__project")
        if with_data:
            queryset = selectors.with_run_data(queryset)
        found = queryset.filter(run_id=run_id).first() if validation.is_run_id(run_id) else None
        if found is None:
            raise not_found(f"Run with id={run_id} not found")
        self.allow(found.caller_role, action, f"project {found.experiment.project.slug}")
        return found

    def run_to_write(self, run_id: str) -> Run:
        """The run to log data to, with only the columns a write needs, in one query that
        also checks the caller's role and the addressed project (by its slug; a bound token's
        project is checked by ``scoped``). A miss looks the project up, so an unreachable
        project is refused as such, as every other endpoint refuses it."""
        found = None
        if validation.is_run_id(run_id):
            queryset = scoped(self.request, Run.objects.all(), project_path="experiment__project")
            if self.project_slug is not None:
                queryset = queryset.filter(experiment__project__slug=self.project_slug)
            queryset = (
                queryset.filter(run_id=run_id)
                .only(*_RUN_WRITE_COLUMNS)
                .annotate(project_slug=F("experiment__project__slug"))
            )
            found = next(iter(queryset[:1]), None)  # not first(): no ORDER BY to build
        if found is None:
            self.check_project()
            raise not_found(f"Run with id={run_id} not found")
        self.allow(found.caller_role, Action.LOG_DATA, f"project {found.project_slug}")
        return found

    # --- Logged models ------------------------------------------------------------------

    def logged_models(self) -> QuerySet[LoggedModel]:
        queryset = scoped(
            self.request, LoggedModel.objects.all(), project_path="experiment__project"
        )
        if self.project is not None:
            queryset = queryset.filter(experiment__project=self.project)
        return queryset

    def logged_model(
        self, model_id: str, action: Action, *, with_data: bool = False
    ) -> LoggedModel:
        """An active logged model; a deleted one is not found, as in MLflow."""
        queryset = self.logged_models().select_related("experiment__project")
        if with_data:
            queryset = registry_selectors.with_logged_model_data(queryset)
        found = None
        if registry_validation.is_model_id(model_id or ""):
            found = queryset.filter(
                model_id=model_id, lifecycle_stage=LifecycleStage.ACTIVE
            ).first()
        if found is None:
            self.check_project()
            raise not_found(f"Logged model with ID '{model_id}' not found.")
        self.allow(found.caller_role, action, f"project {found.experiment.project.slug}")
        return found

    # --- Registered models --------------------------------------------------------------

    def registered_models(self) -> QuerySet[RegisteredModel]:
        queryset = scoped(self.request, RegisteredModel.objects.all(), project_path="project")
        if self.project is not None:
            queryset = queryset.filter(project=self.project)
        return queryset

    def registered_model(self, name: str, action: Action | None) -> RegisteredModel:
        """The model named ``name`` in the addressed project; at a root that spans several
        projects, a name two of them use needs the project's URI. ``action`` None: the
        caller checks the role, once it knows what the call does."""
        registry_validation.check_model_name(name)
        found = list(self.registered_models().select_related("project").filter(name=name)[:2])
        if not found:
            self.check_project()
            raise not_found(f"Registered Model with name={name} not found")
        if len(found) > 1:
            self.require_project(
                f"tell apart the registered models named {name!r} of several projects"
            )
        if action is not None:
            self.allow(found[0].caller_role, action, f"project {found[0].project.slug}")
        return found[0]

    def versions(self) -> QuerySet[ModelVersion]:
        queryset = scoped(
            self.request, ModelVersion.objects.all(), project_path="registered_model__project"
        )
        if self.project is not None:
            queryset = queryset.filter(registered_model__project=self.project)
        return queryset

    def version(self, name: str, version, action: Action | None) -> ModelVersion:
        number = registry_validation.version_number(version)
        registered_model = self.registered_model(name, None)
        found = (
            registry_selectors.with_version_data(ModelVersion.objects.all())
            .filter(registered_model=registered_model, version=number)
            .first()
        )
        if found is None:
            raise not_found(f"Model Version (name={name}, version={version}) not found")
        found.registered_model = registered_model  # keeps caller_role and the project
        if action is not None:
            self.allow(
                registered_model.caller_role, action, f"project {registered_model.project.slug}"
            )
        return found
