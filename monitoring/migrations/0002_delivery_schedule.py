"""Schedule the notification sweeper: every minute it enqueues the deliveries that are due
(retries after their backoff, and any whose task was lost)."""

from django.db import migrations

TASK = "monitoring.deliver_due_notifications"
NAME = "Deliver due alert notifications"


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
            "description": "Sends alert notifications whose next attempt is due: retries "
            "with backoff, and any whose delivery task was lost.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
