"""``Authorization: Bearer <token>`` for tools.

The mlflow client sends this header when ``MLFLOW_TRACKING_TOKEN`` is set. Every request of
a tool pays for this, so it costs one narrow query and, at most once a minute per token, a
write of when the token was last used. Nothing is cached in the process: a revoked token
is refused on its next request.
"""

from rest_framework import authentication, exceptions
from rest_framework.throttling import AnonRateThrottle

from api.services import token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            self.refuse(request, "Authorization header must be 'Bearer <token>' with one token.")
        try:
            secret = header[1].decode()
        except UnicodeError:
            self.refuse(request, "The token holds invalid characters.")
        token = token_authenticate(secret)
        if token is None:
            self.refuse(request, "The token is unknown, revoked or expired.")
        return token.user, token

    @staticmethod
    def refuse(request, message: str):
        """Count failed attempts against the anonymous rate of the caller's address, so
        guessing tokens is throttled like any other anonymous traffic."""
        throttle = AnonRateThrottle()
        # The plain Django request: DRF's request.user would re-enter authentication.
        if not throttle.allow_request(request._request, None):
            raise exceptions.Throttled(throttle.wait())
        raise exceptions.AuthenticationFailed(message)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="mlprojects"'
