from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Production monitoring"

    def ready(self) -> None:
        """Follow the production alias (the registry announces its moves) and judge the
        evidence rule about monitors: neither ``registry`` nor ``phases`` knows this app."""
        from monitoring.evidence import production_monitors_ok
        from monitoring.services import production_alias_moved
        from phases.choices import EvidenceRule
        from phases.gates import register_evidence_check
        from registry.hooks import on_production_alias_moved

        on_production_alias_moved(production_alias_moved)
        register_evidence_check(EvidenceRule.PRODUCTION_MONITORS_OK, production_monitors_ok)
