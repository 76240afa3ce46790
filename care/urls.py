from django.urls import path

from care import sms_views, views

app_name = "care"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("requests/", views.my_requests, name="my_requests"),
    path("requests/new/", views.request_new, name="request_new"),
    path("front-desk/", views.front_desk, name="front_desk"),
    path("front-desk/workers/new/", views.walk_in_register, name="walk_in_register"),
    path("front-desk/workers/<int:worker_id>/request/", views.walk_in_request, name="walk_in_request"),
    path("queue/", views.queue, name="queue"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/take-up/", views.case_take_up, name="case_take_up"),
    path("cases/<int:case_id>/close/", views.case_close, name="case_close"),
    path("cases/<int:case_id>/withdraw/", views.case_withdraw, name="case_withdraw"),
    path("figures/", views.figures_page, name="figures"),
    path("figures/export.xlsx", views.figures_export, name="figures_export"),
    path("figures/reports/<str:month>.xlsx", views.figures_report, name="figures_report"),
    path("figures/follow-up/", views.follow_ups, name="follow_ups"),
    path("figures/follow-up/<int:survey_id>/", views.follow_up, name="follow_up"),
    path("rate/<str:token>/", views.survey, name="survey"),  # a satisfaction survey by personal link
    path("signin/", sms_views.signin, name="signin"),
    path("signin/code/", sms_views.signin_code, name="signin_code"),
    path("signin/register/", sms_views.signin_register, name="signin_register"),
    path("sms/outbox/", sms_views.outbox, name="outbox"),
    path("sms/outbox/<int:message_id>/retry/", sms_views.outbox_retry, name="outbox_retry"),
    path("sms/status/<int:message_id>/", sms_views.sms_status, name="sms_status"),
    path("sms/inbound/", sms_views.sms_inbound, name="sms_inbound"),
]
