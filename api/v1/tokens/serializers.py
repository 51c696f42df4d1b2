"""Shapes of personal API tokens; the secret is shown once, on creation."""

from rest_framework import serializers

from api.models import ApiToken
from api.v1.fields import JsonModelSerializer, ScopedProjectField


class TokenSerializer(JsonModelSerializer):
    is_active = serializers.BooleanField(read_only=True)
    project = ScopedProjectField(
        required=False,
        allow_null=True,
        help_text="Slug of the one project this token may reach; all of yours when empty.",
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "project",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The secret. Shown this once; store it now."
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
