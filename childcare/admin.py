"""The care station in the admin: configuration only (stations, their coordinator and staff,
programmes). Children, enrolments, the roster and incidents are never shown here: they are
private, and every change to them goes through childcare.services (audited)."""

from django.contrib import admin

from childcare.models import Programme, Station


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ("name", "coordinator", "address")
    filter_horizontal = ("staff",)


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("name", "station", "kind", "starts_on", "ends_on", "capacity", "ratio")
    list_filter = ("station", "kind")
