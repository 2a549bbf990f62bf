from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from apps.accounts.models import User
from apps.accounts.services import (
    user_can_assign_roles,
    user_email_verify,
    user_roles,
    user_roles_record,
)

ROLE_FIELDS = ("groups", "user_permissions", "is_staff", "is_superuser")
NO_ROLES = {"groups": [], "permissions": [], "is_staff": False, "is_superuser": False}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_active", "role_list", "last_login")
    list_filter = ("is_active", "groups")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "time_zone")}),
        (
            "Roles",
            {"fields": ("is_active", "groups", "is_staff", "is_superuser", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2", "groups")}),
    )
    filter_horizontal = ("groups", "user_permissions")

    @admin.display(description="Roles")
    def role_list(self, obj: User) -> str:
        return ", ".join(obj.role_names)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None and not user_can_assign_roles(actor=request.user, user=None):
            # The add form has no read-only rendering: leave the groups out instead.
            return [
                (name, {**opts, "fields": [f for f in opts["fields"] if f not in ROLE_FIELDS]})
                for name, opts in fieldsets
            ]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and not user_can_assign_roles(actor=request.user, user=obj):
            return (*readonly, *ROLE_FIELDS)
        return readonly

    def save_model(self, request, obj, form, change):
        stored = User.objects.filter(pk=obj.pk).first() if change else None
        request._roles_before = user_roles(stored) if stored else NO_ROLES
        super().save_model(request, obj, form, change)
        if not change or "email" in form.changed_data:
            user_email_verify(user=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The admin's change view is atomic: a refused change is rolled back with the rest.
        user_roles_record(actor=request.user, user=form.instance, before=request._roles_before)
