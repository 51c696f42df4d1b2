"""What every registry service shares."""

from django.contrib.auth.models import AbstractBaseUser

from experiments.services import now_ms, touched

User = AbstractBaseUser

__all__ = ["User", "now_ms", "touched"]
