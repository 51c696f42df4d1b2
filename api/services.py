"""Writes of the API layer: issuing, using and revoking personal API tokens."""

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from api.models import ApiToken
from mlprojects.exceptions import DomainError

TOKEN_PREFIX = "mlp_"  # noqa: S105  (a label that makes leaked tokens easy to scan for)
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, user, name: str, expires_at: dt.datetime | None = None, project=None
) -> tuple[ApiToken, str]:
    """Issue a token; returns it with its secret, which is never stored nor shown again."""
    name = name.strip()
    if not name:
        raise DomainError.invalid("name", "must not be blank")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError.invalid("expires_at", "must be in the future")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:12],
        digest=token_digest(secret),
        expires_at=expires_at,
        project=project,
    )
    return token, secret


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# What a request reads of its token and its user (scoping, throttles, the user an MLflow run
# records); anything else is loaded if ever asked for.
_TOKEN_COLUMNS = (
    "id",
    "user_id",
    "project_id",
    "last_used_at",
    "user__id",
    "user__username",
    "user__is_active",
    "user__is_staff",
    "user__is_superuser",
)


def token_authenticate(secret: str) -> ApiToken | None:
    """The usable token for ``secret``, with its user, in one narrow query (every request of
    a tool pays for it); records when it was last used, at most once a minute."""
    try:
        token = (
            ApiToken.objects.usable()
            .filter(digest=token_digest(secret), user__is_active=True)
            .select_related("user")
            .only(*_TOKEN_COLUMNS)
            .get()
        )
    except ApiToken.DoesNotExist:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
