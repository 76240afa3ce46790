"""Legal aid in the admin: configuration and support only, never private content."""

from django.contrib import admin

from care.admin import ReadOnlyAdmin
from legal.models import LegalCase


@admin.register(LegalCase)
class LegalCaseAdmin(ReadOnlyAdmin):
    list_display = ("case", "state", "dispute_type", "updated_at")
    list_filter = ("state", "dispute_type")
    fields = ("case", "state", "dispute_type", "updated_at")
    readonly_fields = fields
