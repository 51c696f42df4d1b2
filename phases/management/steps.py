"""Demo steps: how each app adds its own demo data to ``manage.py demo_data``.

The command builds the lifecycle portfolio first (``portfolio.py``), then runs the demo step
of every installed app that has one, in ``INSTALLED_APPS`` order. A step is a module
``<app>/management/demo.py`` with one entry point::

    def build(*, portfolio: Built, rng: random.Random) -> str:
        '''Add this app's demo data to the portfolio just built; return one line for the
        command's summary ("" for none).'''

- ``portfolio`` (:class:`Built`) holds the demo projects by slug, the demo users by
  username, and the moment the demo counts back from, so a step's data lines up with the
  projects' histories.
- ``rng`` is seeded per app (:func:`rng_for`), so the demo is the same each time it is
  loaded, and one app's step never shifts another's numbers.
- A step writes through its own app's services, inside the command's transaction: if any
  step fails, nothing of the demo is kept. It imports its own app and the apps below it
  (``experiments`` may read ``phases``), never one above: ``phases`` discovers steps by
  name and imports none of them itself.
"""

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from django.utils.module_loading import module_has_submodule

from phases.models import Project

STEP_MODULE = "demo"
SEED = "mlprojects-demo"


@dataclass(frozen=True)
class Built:
    """The portfolio the demo built: what every later demo step adds to."""

    projects: dict[str, Project]
    users: dict[str, Model]
    now: dt.datetime


Step = Callable[..., str]


def rng_for(label: str) -> random.Random:
    """The seeded generator of one app's step: the same numbers on every load."""
    return random.Random(f"{SEED}:{label}")  # noqa: S311  (demo data, not secrets)


def steps() -> list[tuple[str, Step]]:
    """``(app label, build)`` of each installed app with a demo step, in INSTALLED_APPS order.

    An app's ``management/demo.py`` without a ``build`` is an error, not a skipped app: a
    step that silently did nothing would leave its pages empty on a fresh checkout."""
    found = []
    for config in apps.get_app_configs():
        if not module_has_submodule(config.module, "management"):
            continue
        management = import_module(f"{config.name}.management")
        if not module_has_submodule(management, STEP_MODULE):
            continue
        module = import_module(f"{config.name}.management.{STEP_MODULE}")
        build = getattr(module, "build", None)
        if not callable(build):
            raise ImproperlyConfigured(
                f"{module.__name__} is a demo step and must define build(*, portfolio, rng)."
            )
        found.append((config.label, build))
    return found


def run(portfolio: Built) -> list[str]:
    """Run every app's demo step on ``portfolio``; the summary lines they return."""
    lines = []
    for label, build in steps():
        line = build(portfolio=portfolio, rng=rng_for(label))
        if line:
            lines.append(line)
    return lines
