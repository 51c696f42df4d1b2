"""API tokens in the admin: seen and revoked, never created nor shown (only a digest is kept).

The superuser sees every token. A manager sees the tokens bound to a project they manage
(anyone's: a CI token of their project is theirs to revoke) and their own; a token of
someone else that is not bound to a project reaches everything its owner may, so it is
not the manager's to see (``owner_path`` of ``ManagedProjectsMixin``)."""

from django.contrib import admin, messages

from api import services
from api.models import ApiToken
from phases.admin.common import ManagedProjectsMixin

# Everything of a token but its digest, in the list and on its page alike: nothing is edited.
SHOWN = [
    "name",
    "user",
    "project",
    "prefix",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
]


@admin.register(ApiToken)
class ApiTokenAdmin(ManagedProjectsMixin, admin.ModelAdmin):
    project_path = "project"
    owner_path = "user"
    list_display = SHOWN
    list_filter = ["revoked_at", "expires_at"]
    list_select_related = ["user", "project"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = SHOWN
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        # Secrets are shown once, to their owner, by the API; the admin never creates them.
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset:
            services.token_revoke(token=token)
        messages.success(request, f"Revoked {queryset.count()} token(s).")
