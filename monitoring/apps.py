from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Production monitoring"

    def ready(self) -> None:
        """Follow the production alias (the registry announces its moves), judge the
        evidence rule about monitors and count firing alerts into project health: neither
        ``registry`` nor ``phases`` knows this app."""
        from monitoring.evidence import production_monitors_ok
        from monitoring.selectors import firing_alert_counts
        from monitoring.services import production_alias_moved
        from phases.choices import EvidenceRule
        from phases.gates import register_evidence_check
        from phases.health import register_firing_alerts
        from registry.hooks import on_production_alias_moved

        on_production_alias_moved(production_alias_moved)
        register_evidence_check(EvidenceRule.PRODUCTION_MONITORS_OK, production_monitors_ok)
        # A firing alert is a risk the project's health shows (phases never imports us).
        register_firing_alerts(firing_alert_counts)
