from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "Experiment tracking"

    def ready(self) -> None:
        """Judge the evidence rules about runs: ``phases`` knows the rules, not the runs."""
        from experiments.evidence import best_run_meets_target
        from phases.choices import EvidenceRule
        from phases.gates import register_evidence_check

        register_evidence_check(EvidenceRule.BEST_RUN_MEETS_TARGET, best_run_meets_target)
