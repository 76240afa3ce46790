"""The counseling REST API, under /api/v1/counseling/ (namespace "counseling_api")."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from counseling import api

app_name = "counseling_api"

router = SimpleRouter()
router.register("appointments", api.AppointmentViewSet, basename="appointment")
router.register("group-sessions", api.GroupSessionViewSet, basename="group-session")
router.register("group-places", api.GroupPlaceViewSet, basename="group-place")

urlpatterns = [
    path("services/", api.ServiceListView.as_view(), name="services"),
    path("counselors/", api.CounselorListView.as_view(), name="counselors"),
    path("slots/", api.SlotListView.as_view(), name="slots"),
    path("consent/", api.ConsentView.as_view(), name="consent"),
    *router.urls,
]
