"""Writes of the dashboard: creating and revoking shared status links.

Permission checks stay in the views (they know the caller's role); these keep the rows
consistent and audited, like every other service.
"""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from dashboard.models import SharedLink
from mlprojects.db import locked
from mlprojects.exceptions import DomainError
from phases.models import Project


@transaction.atomic
def shared_link_create(
    *,
    project: Project,
    by: AbstractBaseUser | None,
    label: str = "",
    expires_at: dt.datetime | None = None,
) -> SharedLink:
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError.invalid("expires_at", "must be in the future")
    return SharedLink.objects.create(
        project=project, created_by=by, label=label.strip(), expires_at=expires_at
    )


@transaction.atomic
def shared_link_revoke(*, link: SharedLink, by: AbstractBaseUser | None) -> SharedLink:
    """Revoke at once; revoking twice keeps the first time, so the audit stays true."""
    link = locked(link)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link
