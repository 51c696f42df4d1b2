"""The caller's own API tokens: list, create (the secret shown once) and revoke, from a
signed-in session only (``api.permissions.SignedInSession``)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from api import services as api_services
from api.models import ApiToken
from api.permissions import SignedInSession
from api.v1.tokens import serializers


@extend_schema_view(
    list=extend_schema(summary="Your API tokens"),
    retrieve=extend_schema(summary="One of your API tokens"),
    create=extend_schema(
        summary="Create an API token",
        description=(
            "The answer holds the secret in `token`, shown this once only. Tokens are "
            "managed from a signed-in session: a request made with a token gets 403 here."
        ),
        responses={201: serializers.NewTokenSerializer},
    ),
    destroy=extend_schema(summary="Revoke an API token"),
)
class TokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = ApiToken.objects.all()
    serializer_class = serializers.TokenSerializer
    permission_classes = [SignedInSession]
    ordering_fields = ["created_at", "last_used_at", "name"]
    search_fields = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.queryset.filter(user=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = api_services.token_create(user=request.user, **serializer.validated_data)
        token.token = secret
        return Response(serializers.NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        api_services.token_revoke(token=instance)
