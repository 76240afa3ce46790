from django.urls import path
from rest_framework.routers import SimpleRouter

from care import api

router = SimpleRouter()
router.register("cases", api.CaseViewSet, basename="case")
router.register("case-summaries", api.CaseSummaryViewSet, basename="case-summary")
router.register("workers", api.WorkerViewSet, basename="worker")
router.register("sms/outbox", api.OutboxViewSet, basename="sms-outbox")

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("figures/", api.FiguresView.as_view(), name="api-figures"),
    *router.urls,
]
