"""The evidence rule about production monitors."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("phases", "0006_production_version_rule"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outcome",
            name="evidence_rule",
            field=models.CharField(
                blank=True,
                choices=[
                    (
                        "best_run_meets_target",
                        "A run of this project reaches the project's target on its success metric",
                    ),
                    (
                        "production_version_meets_target",
                        "A registered version of this project is at the production alias and meets the target",
                    ),
                    (
                        "production_monitors_ok",
                        "The production deployment's monitors have been ok for the last days",
                    ),
                ],
                help_text="A criterion the gate also checks against the project's data.",
                max_length=40,
            ),
        ),
        migrations.AlterField(
            model_name="outcometemplate",
            name="evidence_rule",
            field=models.CharField(
                blank=True,
                choices=[
                    (
                        "best_run_meets_target",
                        "A run of this project reaches the project's target on its success metric",
                    ),
                    (
                        "production_version_meets_target",
                        "A registered version of this project is at the production alias and meets the target",
                    ),
                    (
                        "production_monitors_ok",
                        "The production deployment's monitors have been ok for the last days",
                    ),
                ],
                help_text="A criterion the gate also checks against the project's data.",
                max_length=40,
            ),
        ),
    ]
