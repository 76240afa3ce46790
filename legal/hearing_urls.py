"""Hearings' pages; included by legal.urls under /legal/ (app_name "legal"). Their API is in
legal.api_urls."""

from django.urls import path

from legal import hearing_views as views
from legal import video_views

urlpatterns = [
    path("hearings/", views.my_hearings, name="my_hearings"),
    path("hearings/<int:hearing_id>/", views.hearing_page, name="hearing"),
    path("cases/<int:legal_case_id>/hearings/new/", views.hearing_new, name="hearing_new"),
    path("hearings/<int:hearing_id>/reschedule/", views.hearing_reschedule, name="hearing_reschedule"),
    path("hearings/<int:hearing_id>/cancel/", views.hearing_cancel, name="hearing_cancel"),
    path("hearings/<int:hearing_id>/outcome/", views.hearing_outcome, name="hearing_outcome"),
    path("hearings/<int:hearing_id>/room/", video_views.hearing_room, name="hearing_room"),
    path("hearings/<int:hearing_id>/attendance/", video_views.attendance, name="hearing_attendance"),
]
