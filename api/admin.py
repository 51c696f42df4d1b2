"""Managers see every API token in the admin, and can revoke one; secrets are never shown."""

from django.contrib import admin, messages

from api import services
from api.models import ApiToken

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
class ApiTokenAdmin(admin.ModelAdmin):
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
