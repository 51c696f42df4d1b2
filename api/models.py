"""Personal API tokens: how tools (scripts, CI, the mlflow client) act as a user."""

from django.conf import settings
from django.db import models

from mlprojects.db import RevocableQuerySet, is_usable


class ApiToken(models.Model):
    """Only a SHA-256 digest of the secret is stored; the secret is shown once, on creation.

    A fast hash is enough: the secret is 256 random bits, not a password to guess.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    project = models.ForeignKey(
        "phases.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_tokens",
        help_text="When set, the token reaches this project only (least privilege for CI).",
    )
    prefix = models.CharField(
        max_length=16, editable=False, help_text="The start of the token, to tell tokens apart."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = RevocableQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return is_usable(self)
