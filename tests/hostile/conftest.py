"""The API fixtures (``world``: a project with a member of every role, their tokens)."""

from tests.api.conftest import fresh_throttles, unthrottled, world

__all__ = ["fresh_throttles", "unthrottled", "world"]
