"""The claims REST API, under /api/v1/claims/ (namespace "claims_api")."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from care.claims import api

app_name = "claims_api"

router = SimpleRouter()
router.register("", api.ClaimViewSet, basename="claim")

urlpatterns = [
    path("receipts/<int:receipt_id>/", api.ReceiptDownloadView.as_view(), name="receipt_download"),
    *router.urls,
]
