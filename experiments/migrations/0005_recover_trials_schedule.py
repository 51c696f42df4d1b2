"""Schedule the recovery of sweeps: every minute it sends again the trials whose worker
died (an expired lease) and the queued trials of a sweep that has stalled."""

from django.db import migrations

TASK = "experiments.recover_trials"
NAME = "Recover sweep trials of lost workers"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "interval": every,
            "queue": "scheduled",
            "description": "Sends again the sweep trials whose worker died (their lease "
            "expired) and the queued trials of a sweep where nothing has run for a while.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0004_sweeps"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
