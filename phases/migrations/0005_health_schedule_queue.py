"""Beat sends the health job to the queue of scheduled work, now named for what it carries.

The queue was called "monitoring" before a monitoring app existed; it carries every job beat
schedules. A schedule a manager moved to another queue is left where it is.
"""

from django.db import migrations

TASK = "phases.refresh_project_health"


def rename(old: str, new: str):
    def move(apps, schema_editor):
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        PeriodicTask.objects.filter(task=TASK, queue=old).update(queue=new)

    return move


class Migration(migrations.Migration):
    dependencies = [
        ("phases", "0004_outcome_evidence_rule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(rename("monitoring", "scheduled"), rename("scheduled", "monitoring"))
    ]
