"""Pages of mutual-insurance claims, under /claims/ (namespace "claims")."""

from django.urls import path

from care.claims import spreadsheet_views, views

app_name = "claims"

urlpatterns = [
    # Members (and the front desk for a walk-in member)
    path("cover/", views.my_cover, name="cover"),
    path("new/", views.claim_new, name="new"),
    path("new/for/<int:worker_id>/", views.claim_new_for_worker, name="new_for_worker"),
    # One claim (the member, the claims office)
    path("<int:claim_id>/", views.claim_page, name="claim"),
    path("<int:claim_id>/invoices/", views.invoice_add, name="invoice_add"),
    path("<int:claim_id>/invoices/<int:invoice_id>/remove/", views.invoice_remove, name="invoice_remove"),
    path("<int:claim_id>/receipts/", views.receipt_upload, name="receipt_upload"),
    path("receipts/<int:receipt_id>/", views.receipt_download, name="receipt"),
    path("<int:claim_id>/step/<str:transition>/", views.step, name="step"),
    path("file/<int:case_id>/", views.for_case, name="for_case"),  # the hall case's claim
    # The claims office
    path("", views.queue, name="queue"),
    path("enrolments/import/", spreadsheet_views.enrolment_import, name="enrolment_import"),
    path("enrolments/template.xlsx", spreadsheet_views.enrolment_template, name="enrolment_template"),
    path("batches/", views.batches, name="batches"),
    path("batches/<int:batch_id>/", views.batch_page, name="batch"),
    path("batches/<int:batch_id>/export.xlsx", spreadsheet_views.batch_export, name="batch_export"),
    path("batches/<int:batch_id>/paid/", views.batch_paid, name="batch_paid"),
    # The center manager
    path("figures/", views.figures, name="figures"),
]
