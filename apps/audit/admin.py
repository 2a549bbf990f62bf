from django.contrib import admin

from apps.audit.models import AuditEvent
from apps.web import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "actor_label", "verb", "target_type", "target_label")
    list_filter = ("verb", "target_type")
    search_fields = ("actor_label", "target_label", "target_id")
    date_hierarchy = "at"
