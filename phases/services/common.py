"""What the lifecycle services share: the checks on the keyword fields they take."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError
from django.db.models import TextChoices

from mlprojects.exceptions import DomainError

User = AbstractBaseUser

User = AbstractBaseUser


def _only(fields: dict, allowed: frozenset[str]) -> None:
    unknown = sorted(fields.keys() - allowed)
    if unknown:
        raise DomainError.invalid(unknown[0], "cannot be changed here")


def _not_blank(fields: dict, name: str) -> None:
    """Strip the text field ``name`` in place, when it is given; blank is refused."""
    if name in fields:
        fields[name] = fields[name].strip()
        if not fields[name]:
            raise DomainError.invalid(name, "must not be blank")


def _one_of(fields: dict, name: str, choices: type[TextChoices]) -> None:
    if name in fields and fields[name] not in choices.values:
        raise DomainError.invalid(name, f"must be one of {', '.join(choices.values)}")


def _assign(instance, fields: dict):
    """Write ``fields`` to the existing row, never anything else: a row deleted meanwhile
    (a concurrent DELETE) is gone, not inserted again from the stale copy in memory."""
    for name, value in fields.items():
        setattr(instance, name, value)
    try:
        instance.save(force_update=True)
    except DatabaseError as error:
        if "did not affect any rows" not in str(error):
            raise
        name = type(instance)._meta.verbose_name
        raise DomainError("not_found", f"The {name} no longer exists.") from error
    return instance
