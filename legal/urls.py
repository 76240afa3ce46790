from django.urls import include, path

from legal import views

app_name = "legal"

urlpatterns = [
    path("", views.legal_queue, name="queue"),
    path("cases/<int:legal_case_id>/", views.case_page, name="case"),
    path("file/<int:case_id>/", views.open_case, name="open"),
    path("cases/<int:legal_case_id>/details/", views.edit_details, name="details"),
    path("cases/<int:legal_case_id>/claims/", views.add_claim, name="add_claim"),
    path("cases/<int:legal_case_id>/notes/", views.add_note, name="add_note"),
    path("cases/<int:legal_case_id>/representatives/", views.add_representative, name="add_representative"),
    path("cases/<int:legal_case_id>/step/<str:transition>/", views.step, name="step"),
    path("cases/<int:legal_case_id>/deadlines/<str:action>/", views.deadline_action, name="deadline"),
    path("", include("legal.document_urls")),
    path("", include("legal.hearing_urls")),
]
