"""Every write of the monitoring domain that matters. Keyword-only, atomic.

Views, the admin, tasks and the registry hook call these. Refusals raise
:class:`mlprojects.exceptions.DomainError` and leave nothing half-written.
"""

from monitoring.services.alerts import (
    alert_acknowledge,
    alert_evaluate,
    alert_resolve,
    alert_silence,
)
from monitoring.services.batches import (
    SCALARS,
    batch_add,
    labels_add,
)
from monitoring.services.common import (
    DELIVER_TASK,
    NAME_LIMIT,
    RUN_MONITOR_TASK,
)
from monitoring.services.deployments import (
    DEFAULT_MONITORS,
    deployment_end,
    deployment_start,
    production_alias_moved,
    reference_from_run,
    reference_set,
)
from monitoring.services.exports import production_dataset_export
from monitoring.services.loop import (
    ACTING_PHASES,
    acting_phase,
    alert_follow_up,
    alert_move_back,
)
from monitoring.services.monitors import (
    MONITOR_FIELDS,
    monitor_config_check,
    monitor_create,
    monitor_run,
    monitor_schedule_follow,
    monitor_update,
    window_for,
)
from monitoring.services.notifications import (
    alert_payload,
    channel_address_check,
    channel_create,
    notification_deliver,
    notifications_due,
)

__all__ = [
    "ACTING_PHASES",
    "DEFAULT_MONITORS",
    "DELIVER_TASK",
    "MONITOR_FIELDS",
    "NAME_LIMIT",
    "RUN_MONITOR_TASK",
    "SCALARS",
    "acting_phase",
    "alert_acknowledge",
    "alert_evaluate",
    "alert_follow_up",
    "alert_move_back",
    "alert_payload",
    "alert_resolve",
    "alert_silence",
    "batch_add",
    "channel_address_check",
    "channel_create",
    "deployment_end",
    "deployment_start",
    "labels_add",
    "monitor_config_check",
    "monitor_create",
    "monitor_run",
    "monitor_schedule_follow",
    "monitor_update",
    "notification_deliver",
    "notifications_due",
    "production_alias_moved",
    "production_dataset_export",
    "reference_from_run",
    "reference_set",
    "window_for",
]
