"""Counseling in the admin: configuration only (services, rooms, counselors' weekly
hours). Appointments and consents are never shown here: they are private."""

from django.contrib import admin

from counseling.models import CounselorProfile, Room, Service, WorkingHours


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(CounselorProfile)
class CounselorProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "session_minutes", "buffer_minutes", "active")
    inlines = [WorkingHoursInline]  # exceptions go through counseling.services.exception_add (audited)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "active")


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "active")
