"""The transition history: written by the transition services, never edited."""

from django.contrib import admin

from phases.admin.common import ManagedProjectsMixin, ReadOnlyMixin, TransitionColumns
from phases.models import Transition


class MovedByFilter(admin.RelatedOnlyFieldListFilter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.title = "moved by"


@admin.register(Transition)
class TransitionAdmin(ReadOnlyMixin, ManagedProjectsMixin, TransitionColumns, admin.ModelAdmin):
    """The audit trail: rows are written by the transition services and never edited; a
    manager reads the history of the projects they manage."""

    project_path = "project"

    list_display = ["project", "kind", "from_name", "to_name", "by", "created_at", "reason"]
    list_filter = [
        "kind",
        ("project", admin.RelatedOnlyFieldListFilter),
        ("by", MovedByFilter),
    ]
    list_select_related = ["project", "from_phase", "to_phase", "by"]
    search_fields = [
        "project__name",
        "reason",
        "by__username",
        "from_phase__name",
        "to_phase__name",
    ]
    date_hierarchy = "created_at"
