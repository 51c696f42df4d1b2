"""A project's shared links, and the link a token opens."""

from dataclasses import dataclass

from dashboard import sharing
from dashboard.models import SharedLink
from mlprojects.people import display_name
from phases.models import Project


@dataclass(frozen=True, slots=True)
class SharedLinkRow:
    link: SharedLink
    token: str
    created_by: str


def shared_links(*, project: Project) -> list[SharedLinkRow]:
    links = SharedLink.objects.usable().filter(project=project).select_related("created_by")
    return [
        SharedLinkRow(
            link=link,
            token=sharing.token_for(link_id=link.pk, nonce=link.nonce),
            created_by=display_name(link.created_by),
        )
        for link in links
    ]


def shared_link_from_token(token: str) -> SharedLink | None:
    """The usable link a token was signed for, with its project; ``None`` when the token is
    tampered, the link revoked or expired, or its nonce does not match."""
    signed = sharing.unsign(token)
    if signed is None:
        return None
    link_id, nonce = signed
    link = (
        SharedLink.objects.usable()
        .select_related("project__owner", "project__lifecycle", "project__current_phase")
        .filter(pk=link_id)
        .first()
    )
    if link is None or not sharing.nonce_matches(link.nonce, nonce):
        return None
    return link
