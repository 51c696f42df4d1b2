"""The lifecycle domain: templates that describe a lifecycle, and the projects that live it.

Invariants a newcomer must know are in ``phases/README.md``. Every write that moves a project
goes through ``phases.services``; these models hold data and database constraints only.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from mlprojects.db import optional_user
from phases.choices import (
    EvidenceRule,
    Health,
    MetricDirection,
    OutcomeKind,
    PhaseStatus,
    Priority,
    ReviewStatus,
    Role,
    TaskStatus,
    TransitionKind,
)
from phases.metrics import better_low_by_name

# --- Templates --------------------------------------------------------------------------


class LifecycleTemplate(models.Model):
    """An ordered set of phase templates and the transitions allowed between them."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    source = models.CharField(
        max_length=200, blank=True, help_text="Where the lifecycle comes from, for readers."
    )
    is_builtin = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PhaseTemplate(models.Model):
    lifecycle = models.ForeignKey(
        LifecycleTemplate, on_delete=models.CASCADE, related_name="phase_templates"
    )
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    goal = models.TextField()
    description = models.TextField(blank=True)
    expected_days = models.PositiveSmallIntegerField(
        default=30, help_text="Planned duration, used to lay out due dates of new projects."
    )

    class Meta:
        ordering = ["lifecycle", "order"]
        constraints = [
            models.UniqueConstraint(fields=["lifecycle", "order"], name="phase_template_order"),
            models.UniqueConstraint(fields=["lifecycle", "name"], name="phase_template_name"),
        ]

    def __str__(self) -> str:
        return f"{self.lifecycle}: {self.order}. {self.name}"


class TaskFields(models.Model):
    """What a task template and the tasks made from it share: ``services.project_create``
    copies these fields (:func:`copied`) into each new project's tasks."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    required = models.BooleanField(default=True, help_text="Must be done to leave the phase.")
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.MEDIUM)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True


class OutcomeFields(models.Model):
    """What an outcome template and the outcomes made from it share, copied likewise."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=OutcomeKind.choices, default=OutcomeKind.OTHER)
    required = models.BooleanField(default=True, help_text="Must be accepted to leave the phase.")
    order = models.PositiveSmallIntegerField(default=0)
    evidence_rule = models.CharField(
        max_length=40,
        choices=EvidenceRule.choices,
        blank=True,
        help_text="A criterion the gate also checks against the project's data.",
    )

    class Meta:
        abstract = True


def copied(template: TaskFields | OutcomeFields) -> dict[str, object]:
    """The values a project copies from ``template`` (a task or outcome template)."""
    shared = TaskFields if isinstance(template, TaskFields) else OutcomeFields
    return {field.name: getattr(template, field.name) for field in shared._meta.fields}


class TaskTemplate(TaskFields):
    phase = models.ForeignKey(PhaseTemplate, on_delete=models.CASCADE, related_name="tasks")

    class Meta:
        ordering = ["phase", "order", "id"]

    def __str__(self) -> str:
        return self.title


class OutcomeTemplate(OutcomeFields):
    phase = models.ForeignKey(PhaseTemplate, on_delete=models.CASCADE, related_name="outcomes")

    class Meta:
        ordering = ["phase", "order", "id"]

    def __str__(self) -> str:
        return self.name


class TransitionRule(models.Model):
    """An allowed move between two phases of one lifecycle: forward, or a loop back."""

    source = models.ForeignKey(
        PhaseTemplate, on_delete=models.CASCADE, related_name="transitions_out"
    )
    target = models.ForeignKey(
        PhaseTemplate, on_delete=models.CASCADE, related_name="transitions_in"
    )
    description = models.CharField(
        max_length=200, blank=True, help_text="When teams take this path, in a few words."
    )

    class Meta:
        ordering = ["source__order", "target__order"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="transition_rule_unique"),
            models.CheckConstraint(
                condition=~Q(source=F("target")), name="transition_rule_not_to_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source.name} → {self.target.name}"

    @property
    def is_back(self) -> bool:
        return self.target.order < self.source.order


# --- Projects ---------------------------------------------------------------------------


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_projects"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )
    lifecycle = models.ForeignKey(
        LifecycleTemplate, on_delete=models.PROTECT, related_name="projects"
    )
    current_phase = models.OneToOneField(
        "Phase",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="Kept in step with the one active phase by the transition services.",
    )
    success_metric = models.CharField(
        max_length=250,
        blank=True,
        help_text="Metric key that decides success, as runs log it (for example val_f1).",
    )
    success_metric_label = models.CharField(
        max_length=120,
        blank=True,
        help_text="What people call the metric, shown on pages instead of the key "
        "(for example “Fraud caught at 1% false positives”); runs keep logging the key.",
    )
    success_target = models.FloatField(null=True, blank=True)
    success_direction = models.CharField(
        max_length=16, choices=MetricDirection.choices, default=MetricDirection.MAXIMIZE
    )
    health = models.CharField(
        max_length=8, choices=Health.choices, default=Health.GREEN, editable=False
    )
    health_reasons = models.JSONField(default=list, blank=True, editable=False)
    health_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    planned_finish = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="The end of the plan the project started with, kept to show the slip.",
    )
    completed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set when the last phase's gate held and the project was completed; a "
        "loop back clears it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["health"], name="project_health")]

    def __str__(self) -> str:
        return self.name

    @property
    def maximizes(self) -> bool:
        """Whether a higher value of the success metric is better."""
        return MetricDirection.maximizes(self.success_direction)

    def maximizes_metric(self, key: str) -> bool:
        """Whether a higher ``key`` is better on this project: the success metric's stated
        direction, else what the metric's name tells (``phases.metrics``)."""
        if key == self.success_metric:
            return self.maximizes
        return not better_low_by_name(key)

    @property
    def metric_name(self) -> str:
        """The success metric as people read it: its label, else its key."""
        return self.success_metric_label or self.success_metric

    def metric_title(self, key: str) -> str:
        """How pages name the metric ``key`` in plain text (chart titles, axes): the success
        metric by its label, any other metric by its key."""
        return self.metric_name if key and key == self.success_metric else key


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.project}"


class Phase(models.Model):
    """A project's instance of a phase template; name and goal are copied so that later edits
    of the template never rewrite a project's history."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="phases")
    template = models.ForeignKey(PhaseTemplate, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    goal = models.TextField()
    status = models.CharField(
        max_length=16, choices=PhaseStatus.choices, default=PhaseStatus.PLANNED, editable=False
    )
    start_date = models.DateField(null=True, blank=True, help_text="Planned start.")
    due_date = models.DateField(null=True, blank=True, help_text="Planned end.")
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["project", "order"]
        constraints = [
            models.UniqueConstraint(fields=["project", "order"], name="phase_order_unique"),
            models.UniqueConstraint(fields=["project", "template"], name="phase_template_unique"),
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status=PhaseStatus.ACTIVE),
                name="one_active_phase_per_project",
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(due_date__gte=F("start_date")),
                name="phase_due_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.name}"


class Task(TaskFields):
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="tasks")
    assignee = optional_user(related_name="assigned_tasks")
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.TODO)
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["phase", "order", "id"]
        indexes = [models.Index(fields=["status", "due_date"], name="task_status_due")]

    def __str__(self) -> str:
        return self.title


# What only the review services write (``outcome_submit``, ``outcome_accept``, ...): every
# other surface shows these read-only.
REVIEW_FIELDS = (
    "review_status",
    "submitted_by",
    "submitted_at",
    "reviewer",
    "reviewed_at",
    "review_note",
)


class Outcome(OutcomeFields):
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="outcomes")
    evidence_url = models.URLField(max_length=500, blank=True)
    review_status = models.CharField(
        max_length=16,
        choices=ReviewStatus.choices,
        default=ReviewStatus.PENDING,
        editable=False,
    )
    submitted_by = optional_user(editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewer = optional_user(editable=False)
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_note = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["phase", "order", "id"]

    def __str__(self) -> str:
        return self.name


class Transition(models.Model):
    """The audit trail: one row per move, never edited."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="transitions")
    kind = models.CharField(max_length=16, choices=TransitionKind.choices)
    from_phase = models.ForeignKey(
        Phase, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    to_phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="+")
    by = optional_user()
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["project", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=TransitionKind.BACK) | ~Q(reason=""),
                name="transition_back_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind=TransitionKind.COMPLETE) | Q(from_phase=F("to_phase")),
                name="transition_complete_stays_in_its_phase",
            ),
            models.CheckConstraint(
                condition=Q(kind=TransitionKind.START, from_phase__isnull=True)
                | (~Q(kind=TransitionKind.START) & Q(from_phase__isnull=False)),
                name="transition_from_phase_unless_start",
            ),
        ]

    def __str__(self) -> str:
        source = self.from_phase.name if self.from_phase else "—"
        return f"{self.project}: {source} → {self.to_phase.name}"
