"""Admin for configuration and support. It never shows private content: encrypted fields
are left out of every page, and the audit log is read-only."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from care.models import AuditEvent, Case, User, Worker


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only services write: the admin shows them and changes nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (("Hall", {"fields": ("department", "mobile", "language")}),)
    list_display = ("username", "department", "is_active", "last_login")
    list_filter = ("groups", "department", "is_active")


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ("name", "masked_mobile", "employer", "created_at")
    fields = ("name", "employer", "membership_number")
    search_fields = ("=mobile", "membership_number")

    def has_add_permission(self, request):
        return False  # workers are registered through the hall's services


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("reference", "department", "stage", "priority", "opened_at", "due_at")
    list_filter = ("department", "stage", "priority")
    search_fields = ("=reference",)
    fields = ("reference", "department", "stage", "priority", "opened_at", "due_at", "closed_at")
    readonly_fields = fields


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor", "event_type", "subject_type", "subject_id")
    list_filter = ("event_type", "subject_type")
    search_fields = ("=subject_id",)
from care.claims import admin as claims_admin  # noqa: E402, F401 - the claims pages of the admin
