"""The care station's REST API, under /api/v1/childcare/ (namespace "childcare_api")."""

from rest_framework.routers import SimpleRouter

from childcare import api

app_name = "childcare_api"

router = SimpleRouter()
router.register("children", api.ChildViewSet, basename="child")
router.register("pickup-persons", api.PickupPersonViewSet, basename="pickup-person")
router.register("programmes", api.ProgrammeViewSet, basename="programme")
router.register("enrolments", api.EnrolmentViewSet, basename="enrolment")
router.register("roster", api.RosterViewSet, basename="roster")
router.register("attendance", api.AttendanceViewSet, basename="attendance")

urlpatterns = router.urls
