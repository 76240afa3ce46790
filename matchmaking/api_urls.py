"""The matchmaking station's REST API, under /api/v1/matchmaking/ (namespace "matchmaking_api")."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from matchmaking import api

app_name = "matchmaking_api"

router = SimpleRouter()
router.register("suggestions", api.SuggestionViewSet, basename="suggestion")
router.register("introductions", api.IntroductionViewSet, basename="introduction")
router.register("profiles", api.ProfileViewSet, basename="profile")
router.register("reports", api.ReportViewSet, basename="report")

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path("me/submit/", api.MeSubmitView.as_view(), name="me-submit"),
    path("me/withdraw/", api.MeWithdrawView.as_view(), name="me-withdraw"),
    path("me/hidden-from/", api.HiddenFromView.as_view(), name="me-hidden-from"),
    path("me/blocks/", api.BlockView.as_view(), name="me-blocks"),
    *router.urls,
]
