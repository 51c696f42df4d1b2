"""Shared status links: read-only access to one project's status page without an account.

A link is a row, so a manager can list and revoke it; its URL carries a signature over the
row's id and a random nonce (``dashboard.sharing``), so the URL cannot be forged or guessed
and stays valid only while the row says so. The nonce keeps a URL from an older database
(a restored backup, a recreated table) from opening a newer link that reuses its id.
"""

import secrets

from django.db import models

from mlprojects.db import RevocableQuerySet, optional_user


def _nonce() -> str:
    return secrets.token_urlsafe(12)


class SharedLink(models.Model):
    project = models.ForeignKey(
        "phases.Project", on_delete=models.CASCADE, related_name="shared_links"
    )
    label = models.CharField(
        max_length=100, blank=True, help_text="Who the link is for, so it can be told apart."
    )
    nonce = models.CharField(max_length=32, default=_nonce, editable=False)
    created_by = optional_user()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = RevocableQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "revoked_at"], name="shared_link_project")]

    def __str__(self) -> str:
        return f"{self.project}: {self.label or 'shared link'}"
