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
"""

import re
from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework.request import Request

from api.mlflow.errors import invalid, not_found
from api.models import ApiToken
from api.permissions import require, scoped
from experiments import selectors, services
from experiments.models import Experiment, Run
from phases.models import Project
from phases.roles import Action

_EXPERIMENT_ID = re.compile(r"[0-9]{1,18}")
_RUN_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class Scope:
    request: Request
    project: Project | None

    @classmethod
    def of(cls, request: Request, project_slug: str | None) -> "Scope":
        projects = scoped(request, Project.objects.all())
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if project_slug is not None:
            project = projects.filter(slug=project_slug).first()
            if project is None:
                raise not_found(f"Project '{project_slug}' does not exist.")
        elif token is not None and token.project_id is not None:
            project = projects.filter(pk=token.project_id).first()
            if project is None:
                raise not_found("The project of this token does not exist or is not yours.")
        else:
            project = None
        return cls(request=request, project=project)

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
        found = queryset.filter(run_id=run_id).first() if _RUN_ID.fullmatch(run_id) else None
        if found is None:
            raise not_found(f"Run with id={run_id} not found")
        self.allow(found.caller_role, action, f"project {found.experiment.project.slug}")
        return found
