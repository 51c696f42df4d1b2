"""How upper layers learn that a project's production alias moved, without this app knowing
them: ``monitoring`` registers a callback in its ``AppConfig.ready()``; the registry calls
every callback with ``event=<the DeploymentEvent just recorded>`` inside the transaction
that moved the alias, so a callback's writes commit or roll back with the move.

A ``promoted`` event names the version now at the alias; a ``withdrawn`` event (the alias
removed, or its version or registered model deleted) names none (``event.model_version`` and
``event.version`` are None) and says what was there in ``previous_*``.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from registry.models import DeploymentEvent

Callback = Callable[..., None]
_callbacks: list[Callback] = []


def on_production_alias_moved(callback: Callback) -> Callback:
    """Register ``callback(*, event)``; registering the same one twice calls it once.
    Returns it, so it can be used as a decorator."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def production_alias_moved(*, event: "DeploymentEvent") -> None:
    """Called by ``registry.services`` only, inside the transaction that recorded ``event``."""
    for callback in list(_callbacks):
        callback(event=event)
