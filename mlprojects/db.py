"""Model pieces several apps share, so each rule about them is written once."""

from typing import TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

Row = TypeVar("Row", bound=models.Model)


def optional_user(*, related_name: str = "+", **options) -> models.ForeignKey:
    """A link to the user who did something, kept when the account is deleted (it turns
    null): a record of who assigned, reviewed, moved or created outlives the account."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
        **options,
    )


class RevocableQuerySet(models.QuerySet):
    """Rows with ``revoked_at`` and ``expires_at`` (tokens, shared links): usable until
    either is reached."""

    def usable(self) -> "RevocableQuerySet":
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


def is_usable(row) -> bool:
    """:meth:`RevocableQuerySet.usable` for one loaded row."""
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > timezone.now())


def locked(row: Row, *related: str) -> Row:
    """``row`` read again with its database row locked until the transaction ends (call it
    inside ``transaction.atomic``), with ``related`` joined in as ``select_related`` would."""
    query = type(row)._default_manager.select_for_update()
    return (query.select_related(*related) if related else query).get(pk=row.pk)
