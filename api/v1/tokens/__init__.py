"""Personal API tokens in ``/api/v1/``: the caller's own, created and revoked here."""
