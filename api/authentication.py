"""``Authorization: Bearer <token>`` for tools.

The mlflow client sends this header when ``MLFLOW_TRACKING_TOKEN`` is set.
"""

from rest_framework import authentication, exceptions

from api.services import token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization header must be 'Bearer <token>' with one token and no spaces."
            )
        try:
            secret = header[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed("The token holds invalid characters.") from error
        token = token_authenticate(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is unknown, revoked or expired.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="mlprojects"'
