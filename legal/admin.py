"""Legal aid in the admin: configuration and support only, never private content."""

from django.contrib import admin

from care.admin import ReadOnlyAdmin
from legal.models import LegalCase, ProviderCallback, VideoRoom


@admin.register(LegalCase)
class LegalCaseAdmin(ReadOnlyAdmin):
    list_display = ("case", "state", "dispute_type", "updated_at")
    list_filter = ("state", "dispute_type")
    fields = ("case", "state", "dispute_type", "updated_at")
    readonly_fields = fields


@admin.register(VideoRoom)
class VideoRoomAdmin(ReadOnlyAdmin):
    """Support for video hearings: which room is in which state, with which provider."""

    list_display = ("hearing", "state", "provider", "provider_room", "recorded", "opened_at", "ended_at")
    list_filter = ("state", "provider")
    fields = list_display
    readonly_fields = fields


@admin.register(ProviderCallback)
class ProviderCallbackAdmin(ReadOnlyAdmin):
    """The video provider's callbacks as they came (for support when processing failed)."""

    list_display = ("received_at", "provider", "signature_valid", "processed_at", "error")
    list_filter = ("provider", "signature_valid")
    fields = ("received_at", "provider", "signature_valid", "processed_at", "error", "body")
    readonly_fields = fields
