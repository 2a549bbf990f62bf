from django.contrib import admin

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.support.models import BrandGuide


@admin.register(BrandGuide)
class BrandGuideAdmin(admin.ModelAdmin):
    """Every save is a new version: drafts keep pointing at the version they were written with."""

    list_display = ("version", "sign_off", "created_by", "created_at")
    readonly_fields = ("version", "created_by", "created_at")
    fields = (
        "version",
        "tone",
        "sign_off",
        "use_phrases",
        "avoid_phrases",
        "languages",
        "policies",
        "created_by",
        "created_at",
    )

    def save_model(self, request, obj, form, change):
        latest = (
            BrandGuide.objects.order_by("-version").values_list("version", flat=True).first() or 0
        )
        obj.pk = None
        obj._state.adding = True
        obj.version = latest + 1
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            verb=verbs.BRAND_GUIDE_SAVED,
            target=obj,
            data={"version": obj.version},
        )

    def has_delete_permission(self, request, obj=None):
        return False
