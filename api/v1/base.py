"""What every project-owned v1 resource shares: a queryset scoped to the caller's projects,
a role per action, and writes through the domain's services."""

from collections.abc import Iterable, Mapping

from rest_framework import status, viewsets
from rest_framework.response import Response

from api.permissions import HasProjectRole, require, scoped
from phases.roles import Action

READ = {"list": Action.VIEW, "retrieve": Action.VIEW}
UPDATES = frozenset({"update", "partial_update"})


def upload_answer(body, *, stored: bool) -> Response:
    """An idempotent upload's answer: 201 when it stored something, 200 when the same
    upload was stored already, so a client may send again after a lost answer."""
    return Response(body, status=status.HTTP_201_CREATED if stored else status.HTTP_200_OK)


class ProjectScopedViewSet(viewsets.GenericViewSet):
    """Base of every project-owned resource: scoped queryset plus role per action."""

    permission_classes = [HasProjectRole]
    project_path = ""
    role_actions: dict[str, Action] = {}
    # A create whose body is not the row it answers with (a sweep's spec, an upload).
    create_serializer_class = None
    # Fields fixed at creation are read-only here, so the schema of updates says so.
    update_serializer_class = None

    def get_queryset(self):
        return scoped(self.request, self.queryset, project_path=self.project_path)

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        if self.action in UPDATES and self.update_serializer_class is not None:
            return self.update_serializer_class
        return super().get_serializer_class()


class WriteThroughServices:
    """Create and update for the rows of a phase (tasks, outcomes) through their services.

    A subclass declares, and the class refuses to exist without them:

    - ``create_role``: what the caller's role on the phase's project must allow to create;
    - ``field_roles``: the resource's one map of fields that need more than the request's
      own action, each with the action it needs. On create a field in the body needs it; on
      update a field whose value changes does. The schema's summaries say the same;
    - ``create_service(phase, fields)`` and ``update_service(instance, fields)``: call the
      domain's service with the validated fields (``phase`` taken out) and return the row
      to answer with.
    """

    create_role: Action
    field_roles: Mapping[str, Action]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        missing = [
            name
            for name in ("create_role", "field_roles", "create_service", "update_service")
            if not hasattr(cls, name)
        ]
        if missing:
            raise TypeError(f"{cls.__name__} must provide {', '.join(missing)}")

    def _require_fields(self, role: str | None, fields: Iterable[str]) -> None:
        for field in sorted(self.field_roles.keys() & set(fields)):
            require(role, self.field_roles[field])

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        phase = fields.pop("phase")
        require(phase.caller_role, self.create_role)
        self._require_fields(phase.caller_role, fields)
        serializer.instance = self.create_service(phase, fields)

    def perform_update(self, serializer):
        instance = serializer.instance
        fields = {k: v for k, v in serializer.validated_data.items() if k != "phase"}
        guarded = self.field_roles.keys() & fields.keys()
        changed = [name for name in guarded if fields[name] != getattr(instance, name)]
        self._require_fields(instance.caller_role, changed)
        serializer.instance = self.update_service(instance, fields)
