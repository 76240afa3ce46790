"""Legal aid's REST API, under /api/v1/legal/ (namespace "legal_api")."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from legal import api, document_views, hearing_views

app_name = "legal_api"

router = SimpleRouter()
router.register("cases", api.LegalCaseViewSet, basename="case")

urlpatterns = [
    path("cases/<int:legal_case_id>/documents/", document_views.DocumentListView.as_view(), name="documents"),
    path("documents/<int:document_id>/", document_views.DocumentDownloadView.as_view(), name="document_download"),
    path("hearings/", hearing_views.MyHearingsApi.as_view(), name="hearings"),
    path("cases/<int:legal_case_id>/hearings/", hearing_views.ScheduleHearingApi.as_view(), name="hearing_new"),
    path("hearings/<int:hearing_id>/reschedule/", hearing_views.RescheduleHearingApi.as_view(),
         name="hearing_reschedule"),
    path("hearings/<int:hearing_id>/cancel/", hearing_views.CancelHearingApi.as_view(), name="hearing_cancel"),
    path("hearings/<int:hearing_id>/outcome/", hearing_views.HearingOutcomeApi.as_view(), name="hearing_outcome"),
    path("hearings/<int:hearing_id>/room/", hearing_views.HearingRoomApi.as_view(), name="hearing_room"),
    *router.urls,
]
