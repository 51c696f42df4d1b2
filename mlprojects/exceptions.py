"""The one error type for domain refusals.

Services raise :class:`DomainError`; each interface maps it to its own answer in exactly one
place (the REST exception handler, the MLflow error body, an admin message).
"""

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    """A refusal the caller can act on: a stable ``code``, a sentence for people, and details.

    ``fields`` maps an input field to the rules it broke; ``details`` carries anything else
    the caller needs (for example the unmet criteria of a gate).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: Mapping[str, Sequence[str]] | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = {name: list(rules) for name, rules in (fields or {}).items()}
        self.details = details

    @classmethod
    def invalid(cls, field: str, rule: str) -> "DomainError":
        """Bad input on one field, worded as the rule it broke."""
        return cls("invalid", f"{field}: {rule}", fields={field: [rule]})

    @classmethod
    def name_taken(cls, message: str = "name: already exists") -> "DomainError":
        """A name that another row of its kind already has, where names are unique."""
        return cls("already_exists", message, fields={"name": ["already exists"]})

    def __str__(self) -> str:
        return self.message
