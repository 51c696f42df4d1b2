"""Registered models, their versions, aliases and model cards, and deployment events.

Roles are the registry's (``registry/README.md``): a viewer reads; a contributor registers
models and versions, edits their descriptions, sets and removes aliases and deletes versions;
a manager also moves or removes the project's production alias (a deployment, recorded as a
deployment event), deletes the version at it, and deletes registered models. Every write is
a ``registry.services`` call, and the role a production alias change needs is asked of
``registry.services`` too, so the MLflow API and this one keep the same rules.
"""

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.permissions import require
from api.v1.base import READ, ProjectScopedViewSet
from api.v1.errors import REFUSED
from api.v1.registry import filters
from api.v1.registry.serializers import (
    AliasSetSerializer,
    CardSerializer,
    DeploymentEventSerializer,
    ModelVersionCreateSerializer,
    ModelVersionSerializer,
    ModelVersionUpdateSerializer,
    RegisteredModelCreateSerializer,
    RegisteredModelSerializer,
    RegisteredModelUpdateSerializer,
)
from phases.roles import Action
from registry import cards, selectors, services
from registry.models import DeploymentEvent, ModelAlias, ModelVersion, RegisteredModel

MARKDOWN = "text/markdown"


@extend_schema_view(
    list=extend_schema(
        summary="Registered models of your projects, with what is at the production alias"
    ),
    retrieve=extend_schema(summary="A registered model with its aliases and tags"),
)
class RegisteredModelViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet
):
    queryset = (
        selectors.with_production_alias(RegisteredModel.objects.all(), "project")
        .select_related("project", "created_by")
        .prefetch_related(
            "tags",
            Prefetch(
                "aliases", queryset=ModelAlias.objects.select_related("model_version", "set_by")
            ),
        )
        .annotate(
            version_count=Coalesce(
                Subquery(
                    ModelVersion.objects.filter(registered_model=OuterRef("pk"))
                    .order_by()
                    .values("registered_model")
                    .annotate(count=Count("pk"))
                    .values("count"),
                    output_field=IntegerField(),
                ),
                0,
            )
        )
        .order_by("project__name", "name", "id")
    )
    serializer_class = RegisteredModelSerializer
    project_path = "project"
    filterset_class = filters.RegisteredModelFilter
    search_fields = ["name"]
    ordering_fields = ["name", "creation_time", "last_update_time"]
    role_actions = {
        **READ,
        "partial_update": Action.LOG_DATA,
        "destroy": Action.MANAGE_MODELS,
        "remove_alias": Action.LOG_DATA,
    }

    def _answer(self, registered_model: RegisteredModel, code: int = status.HTTP_200_OK):
        found = self.get_queryset().get(pk=registered_model.pk)
        return Response(RegisteredModelSerializer(found).data, status=code)

    @extend_schema(
        summary="Register a model in a project (contributor)",
        request=RegisteredModelCreateSerializer,
        responses={201: RegisteredModelSerializer, **REFUSED},
    )
    def create(self, request):
        body = RegisteredModelCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        project = body.validated_data["project"]
        require(project.caller_role, Action.LOG_DATA)
        registered_model = services.registered_model_create(
            project=project,
            name=body.validated_data["name"],
            description=body.validated_data["description"],
            by=request.user,
        )
        return self._answer(registered_model, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename a model or change its description (contributor)",
        request=RegisteredModelUpdateSerializer,
        responses={200: RegisteredModelSerializer, **REFUSED},
    )
    def partial_update(self, request, pk=None):
        registered_model = self.get_object()
        body = RegisteredModelUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = body.validated_data
        with transaction.atomic():
            if "name" in fields:
                services.registered_model_rename(
                    registered_model=registered_model, new_name=fields["name"], by=request.user
                )
            if "description" in fields:
                services.registered_model_update(
                    registered_model=registered_model,
                    description=fields["description"],
                    by=request.user,
                )
        return self._answer(registered_model)

    @extend_schema(
        summary="Delete a model with its versions (manager)",
        description="If one of its versions is at the production alias, that is recorded as "
        "a withdrawal first.",
        responses={204: None, **REFUSED},
    )
    def destroy(self, request, pk=None):
        registered_model = self.get_object()
        services.registered_model_delete(registered_model=registered_model, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Remove an alias from the model (contributor; the production alias: manager)",
        description="Removing the production alias is a recorded withdrawal. Removing an alias "
        "that is not set changes nothing.",
        request=AliasSetSerializer,
        responses={200: RegisteredModelSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="remove-alias")
    def remove_alias(self, request, pk=None):
        registered_model = self.get_object()
        body = AliasSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alias = body.validated_data["alias"]
        production = registered_model.production_alias_name
        require(
            registered_model.caller_role,
            services.alias_action(alias, production_alias=production),
        )
        services.alias_delete(registered_model=registered_model, alias=alias, by=request.user)
        return self._answer(registered_model)


@extend_schema_view(
    list=extend_schema(
        summary="Versions of your projects' models, newest first, with aliases and metrics"
    ),
    retrieve=extend_schema(summary="A version: its aliases, run, logged model and metrics"),
)
class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    queryset = (
        selectors.with_production_alias(ModelVersion.objects.all(), "registered_model__project")
        .select_related("registered_model__project", "run", "logged_model", "created_by")
        .prefetch_related(
            "tags", Prefetch("aliases", queryset=ModelAlias.objects.select_related("set_by"))
        )
        .order_by("registered_model__project__name", "registered_model__name", "-version")
    )
    serializer_class = ModelVersionSerializer
    project_path = "registered_model__project"
    filterset_class = filters.ModelVersionFilter
    ordering_fields = ["version", "creation_time", "last_update_time"]
    role_actions = {
        **READ,
        "partial_update": Action.LOG_DATA,
        "destroy": Action.LOG_DATA,
        "alias": Action.LOG_DATA,
        "promote": Action.MANAGE_MODELS,
        "card": Action.VIEW,
        "card_markdown": Action.VIEW,
    }

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "metrics": {}}

    def _serialized(self, versions: list[ModelVersion]):
        context = self.get_serializer_context()
        context["metrics"] = selectors.many_version_metrics(versions)
        return ModelVersionSerializer(versions, many=True, context=context).data

    def _answer(self, version: ModelVersion, code: int = status.HTTP_200_OK) -> Response:
        found = self.get_queryset().get(pk=version.pk)
        return Response(self._serialized([found])[0], status=code)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._serialized(list(page)))

    def retrieve(self, request, pk=None):
        return Response(self._serialized([self.get_object()])[0])

    @extend_schema(
        summary="Register a version from a run's artifacts or a logged model (contributor)",
        request=ModelVersionCreateSerializer,
        responses={201: ModelVersionSerializer, **REFUSED},
    )
    def create(self, request):
        body = ModelVersionCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        fields = body.validated_data
        registered_model = fields["registered_model"]
        require(registered_model.caller_role, Action.LOG_DATA)
        version = services.model_version_register(
            registered_model=registered_model,
            by=request.user,
            run=fields.get("run"),
            artifact_path=fields["artifact_path"],
            logged_model=fields.get("logged_model"),
            description=fields["description"],
        )
        return self._answer(version, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a version's description (contributor)",
        request=ModelVersionUpdateSerializer,
        responses={200: ModelVersionSerializer, **REFUSED},
    )
    def partial_update(self, request, pk=None):
        version = self.get_object()
        body = ModelVersionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.model_version_update(
            version=version, description=body.validated_data["description"], by=request.user
        )
        return self._answer(version)

    @extend_schema(
        summary="Delete a version (contributor; the version at the production alias: manager)",
        description="Its aliases go with it; at the production alias that is a recorded "
        "withdrawal. Its number is never handed out again.",
        responses={204: None, **REFUSED},
    )
    def destroy(self, request, pk=None):
        version = self.get_object()
        production = version.production_alias_name
        require(
            version.caller_role,
            services.version_delete_action(version, production_alias=production),
        )
        services.model_version_delete(version=version, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Point an alias at this version (contributor; the production alias: manager)",
        description="Wherever the alias pointed before. At the project's production alias this "
        "is a deployment, recorded as a deployment event.",
        request=AliasSetSerializer,
        responses={200: ModelVersionSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def alias(self, request, pk=None):
        version = self.get_object()
        body = AliasSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alias = body.validated_data["alias"]
        production = version.production_alias_name
        require(version.caller_role, services.alias_action(alias, production_alias=production))
        services.alias_set(version=version, alias=alias, by=request.user)
        return self._answer(version)

    @extend_schema(
        summary="Deploy: move the project's production alias to this version (manager)",
        description="Recorded as a deployment event (who, when, the version it replaced, the "
        "run and its metric values); monitoring starts a deployment from it. Promoting the "
        "version already there changes nothing.",
        request=None,
        responses={200: ModelVersionSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        version = self.get_object()
        services.alias_set(version=version, alias=version.production_alias_name, by=request.user)
        return self._answer(version)

    @extend_schema(
        summary="The version's model card",
        description="The problem and success metric, the training run's params, metrics and "
        "datasets, the evaluation against the target, the lineage, the outcomes accepted and "
        "by whom, and the deployment history.",
        responses={200: CardSerializer},
    )
    @action(detail=True, methods=["get"])
    def card(self, request, pk=None):
        return Response(CardSerializer(cards.model_card(self.get_object())).data)

    @extend_schema(
        summary="The version's model card as Markdown, to download",
        responses={
            (200, MARKDOWN): OpenApiResponse(OpenApiTypes.STR, description="The card."),
        },
    )
    @action(detail=True, methods=["get"], url_path="card/markdown")
    def card_markdown(self, request, pk=None):
        version = self.get_object()
        text = cards.card_markdown(cards.model_card(version))
        response = HttpResponse(text, content_type=f"{MARKDOWN}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{cards.card_filename(version)}"'
        return response


@extend_schema_view(
    list=extend_schema(summary="Deployment events of your projects, newest first"),
    retrieve=extend_schema(summary="A deployment event: a move of a production alias"),
)
class DeploymentEventViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet
):
    queryset = DeploymentEvent.objects.select_related("project", "by").order_by(
        "-created_at", "-id"
    )
    serializer_class = DeploymentEventSerializer
    project_path = "project"
    filterset_class = filters.DeploymentEventFilter
    ordering_fields = ["created_at"]
    role_actions = READ
