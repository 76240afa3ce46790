"""Documents of a legal case, included under /legal/ (namespace "legal") by legal.urls."""

from django.urls import path

from legal import document_views

urlpatterns = [
    # Pages
    path("cases/<int:legal_case_id>/documents/", document_views.document_upload, name="document_upload"),
    path("documents/<int:document_id>/", document_views.document_download, name="document_download"),
    # API
    path("api/cases/<int:legal_case_id>/documents/", document_views.DocumentListView.as_view(),
         name="api_documents"),
    path("api/documents/<int:document_id>/", document_views.DocumentDownloadView.as_view(),
         name="api_document_download"),
]
