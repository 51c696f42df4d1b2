"""The token in a shared status link: a signature over the link's id and nonce.

Signing rather than storing a secret lets a manager copy a link again at any time, and a
rotated ``SECRET_KEY`` invalidates every link at once, as it does sessions.
"""

from django.core import signing
from django.utils.crypto import constant_time_compare

_SIGNER = signing.Signer(salt="dashboard.shared-link")


def token_for(*, link_id: int, nonce: str) -> str:
    return _SIGNER.sign(f"{link_id}.{nonce}")


def unsign(token: str) -> tuple[int, str] | None:
    """The link id and nonce a token was signed for; ``None`` for anything tampered."""
    try:
        value = _SIGNER.unsign(token)
    except signing.BadSignature:
        return None
    link_id, _, nonce = value.partition(".")
    if not link_id.isdigit() or not nonce:
        return None
    return int(link_id), nonce


def nonce_matches(stored: str, given: str) -> bool:
    return constant_time_compare(stored, given)
