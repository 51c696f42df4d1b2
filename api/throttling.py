"""Rate limits per token (or per signed-in user) and per anonymous address."""

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from api.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Each token has its own budget, so one runaway script does not starve its owner's others."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        else:
            ident = f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


__all__ = ["AnonRateThrottle", "TokenRateThrottle"]
