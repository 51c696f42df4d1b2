"""Give the last phase of each built-in lifecycle (Productionization, Deployment) an
outcome whose evidence is that the production deployment's monitors have been ok for the
last days, in the templates and in the projects that already exist."""

from django.db import migrations
from django.db.models import Max

NAME = "Every monitor ok for the set days"
DESCRIPTION = (
    "The deployment at the production alias has run for the set number of days with every "
    "monitor ok: no alert or error, no open alert, and an ok result from each."
)
RULE = "production_monitors_ok"
LIFECYCLES = ("ml-development-phases", "mlops-lifecycle")


def add(apps, schema_editor):
    LifecycleTemplate = apps.get_model("phases", "LifecycleTemplate")
    OutcomeTemplate = apps.get_model("phases", "OutcomeTemplate")
    Phase = apps.get_model("phases", "Phase")
    Outcome = apps.get_model("phases", "Outcome")
    for lifecycle in LifecycleTemplate.objects.filter(slug__in=LIFECYCLES):
        last = lifecycle.phase_templates.order_by("-order").first()
        if last is None or last.outcomes.filter(evidence_rule=RULE).exists():
            continue
        order = (last.outcomes.aggregate(m=Max("order"))["m"] or 0) + 1
        OutcomeTemplate.objects.create(
            phase=last, order=order, name=NAME, description=DESCRIPTION, kind="deployment",
            required=True, evidence_rule=RULE,
        )  # fmt: skip
        for phase in Phase.objects.filter(template=last).exclude(outcomes__evidence_rule=RULE):
            Outcome.objects.create(
                phase=phase, order=order, name=NAME, description=DESCRIPTION, kind="deployment",
                required=True, evidence_rule=RULE,
            )  # fmt: skip


def remove(apps, schema_editor):
    apps.get_model("phases", "OutcomeTemplate").objects.filter(evidence_rule=RULE).delete()
    apps.get_model("phases", "Outcome").objects.filter(evidence_rule=RULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_delivery_schedule"),
        ("phases", "0007_production_monitors_rule"),
    ]

    operations = [migrations.RunPython(add, remove)]
