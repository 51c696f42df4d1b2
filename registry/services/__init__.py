"""Every write of the model registry. Keyword-only, atomic, with MLflow's semantics; the
MLflow layer, the v1 API, the admin and the demo call these, nothing else writes the models.
Refusals raise :class:`mlprojects.exceptions.DomainError` (``invalid``, ``not_found``,
``already_exists``) and leave nothing half-written."""

from registry.services.deployments import (
    production_alias,
    production_alias_update,
    version_offer_as_evidence,
)
from registry.services.logged_models import (
    ModelMetricIn,
    log_batch,
    logged_model_create,
    logged_model_delete,
    logged_model_delete_tag,
    logged_model_finalize,
    logged_model_log_params,
    logged_model_set_tags,
    run_link_models,
)
from registry.services.registry import (
    alias_delete,
    alias_set,
    model_version_create,
    model_version_delete,
    model_version_delete_tag,
    model_version_set_tag,
    model_version_transition_stage,
    model_version_update,
    registered_model_create,
    registered_model_delete,
    registered_model_delete_tag,
    registered_model_rename,
    registered_model_set_tag,
    registered_model_update,
)

__all__ = [
    "ModelMetricIn",
    "alias_delete",
    "alias_set",
    "log_batch",
    "logged_model_create",
    "logged_model_delete",
    "logged_model_delete_tag",
    "logged_model_finalize",
    "logged_model_log_params",
    "logged_model_set_tags",
    "model_version_create",
    "model_version_delete",
    "model_version_delete_tag",
    "model_version_set_tag",
    "model_version_transition_stage",
    "model_version_update",
    "production_alias",
    "production_alias_update",
    "registered_model_create",
    "registered_model_delete",
    "registered_model_delete_tag",
    "registered_model_rename",
    "registered_model_set_tag",
    "registered_model_update",
    "run_link_models",
    "version_offer_as_evidence",
]
