from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self) -> None:
        """Judge the evidence rule about registered versions: ``phases`` knows the rule, not
        the registry."""
        from phases.choices import EvidenceRule
        from phases.gates import register_evidence_check
        from registry.evidence import production_version_meets_target

        register_evidence_check(
            EvidenceRule.PRODUCTION_VERSION_MEETS_TARGET, production_version_meets_target
        )
