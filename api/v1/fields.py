"""Input fields that take only the JSON type the schema names.

DRF is lenient for the sake of HTML forms: a string field takes ``5``, a number field takes
``"5"`` and ``true``, a boolean takes ``"yes"``, and a link reads ``""`` as null. The OpenAPI
schema promises JSON types, and Schemathesis holds the API to that promise, so v1 inputs go
through these fields instead.
"""

from django.contrib.auth import get_user_model
from django.db import models
from rest_framework import serializers

from api.permissions import scoped
from phases.models import Project


class JsonStringMixin:
    """A string, no longer than ``max_length`` as sent: DRF checks the length after trimming
    the white space around it ("\u0085" and 120 characters passed a limit of 120), and the
    schema's ``maxLength`` counts what the client sends."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        limit = getattr(self, "max_length", None)
        if limit is not None and len(data) > limit:
            self.fail("max_length", max_length=limit)
        return super().to_internal_value(data)


class CharField(JsonStringMixin, serializers.CharField):
    pass


class SlugField(JsonStringMixin, serializers.SlugField):
    pass


class URLField(JsonStringMixin, serializers.URLField):
    pass


def _is_integer(data) -> bool:
    if isinstance(data, bool):
        return False
    return isinstance(data, int) or (isinstance(data, float) and data.is_integer())


class IntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if not _is_integer(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class NumberField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class BooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class SlugLinkField(serializers.SlugRelatedField):
    """A link by slug (or username): a non-empty string; null is the one way to link nothing."""

    def run_validation(self, data=serializers.empty):
        if data == "":
            raise serializers.ValidationError("may not be blank")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdLinkField(serializers.PrimaryKeyRelatedField):
    def run_validation(self, data=serializers.empty):
        if data == "":
            raise serializers.ValidationError("may not be blank")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not _is_integer(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(int(data))


class JsonModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: BooleanField,
        models.CharField: CharField,
        models.TextField: CharField,
        models.SlugField: SlugField,
        models.URLField: URLField,
        models.IntegerField: IntegerField,
        models.SmallIntegerField: IntegerField,
        models.PositiveIntegerField: IntegerField,
        models.PositiveSmallIntegerField: IntegerField,
        models.BigIntegerField: IntegerField,
        models.FloatField: NumberField,
    }
    serializer_related_field = IdLinkField


User = get_user_model()


class UsernameField(SlugLinkField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(**kwargs)


class ScopedRelatedField(IdLinkField):
    """A writable link to a row of a project the caller can see, carrying the caller's role.

    Rows of other projects answer "does not exist", exactly like rows that do not exist.
    """

    def __init__(self, *, model, project_path: str, **kwargs):
        self.model, self.project_path = model, project_path
        super().__init__(queryset=model.objects.all(), **kwargs)

    def get_queryset(self):
        request = self.context["request"]
        return scoped(request, self.model.objects.all(), project_path=self.project_path)


class ScopedProjectField(SlugLinkField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Project.objects.all(), **kwargs)

    def get_queryset(self):
        return scoped(self.context["request"], Project.objects.all())
