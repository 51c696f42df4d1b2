"""The queues are named once, in ``mlprojects.celery.Queue``; the worker command lines of the
local run and of the production stack cannot read the enum, so they must list what it holds."""

import re
from pathlib import Path

from django.conf import settings

from mlprojects.celery import Queue, app
from phases.tasks import HEALTH_TASK

ROOT = Path(__file__).resolve().parent.parent


def worker_queues(text: str) -> set[str]:
    found = re.findall(r"--queues[= ]([\w,]+)", text)
    assert len(found) == 1, found
    return set(found[0].split(","))


def test_the_local_worker_consumes_every_queue():
    config = ROOT / "etc" / "supervisord" / "common.conf"
    assert worker_queues(config.read_text()) == set(Queue)


def test_the_production_worker_consumes_every_queue():
    assert worker_queues((ROOT / "docker-compose.yml").read_text()) == set(Queue)


def test_work_without_a_route_goes_to_the_default_queue():
    assert settings.CELERY_TASK_DEFAULT_QUEUE == Queue.DEFAULT


def test_the_scheduled_health_job_is_routed_to_the_scheduled_queue():
    assert app.amqp.router.route({}, HEALTH_TASK)["queue"].name == Queue.SCHEDULED
