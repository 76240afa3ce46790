"""Documents of a legal case: pages, included under /legal/ (namespace "legal") by legal.urls.
Their API is in legal.api_urls."""

from django.urls import path

from legal import document_views

urlpatterns = [
    # Pages
    path("cases/<int:legal_case_id>/documents/", document_views.document_upload, name="document_upload"),
    path("documents/<int:document_id>/", document_views.document_download, name="document_download"),
]
