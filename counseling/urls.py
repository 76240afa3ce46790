"""Pages of counseling appointments, under /counseling/ (namespace "counseling")."""

from django.urls import path

from counseling import case_views, group_views, views

app_name = "counseling"

urlpatterns = [
    # The counselor's day
    path("", views.day, name="day"),
    # Workers (and the front desk for a walk-in)
    path("book/", views.book, name="book"),
    path("book/for/<int:worker_id>/", views.book_for_worker, name="book_for_worker"),
    path("appointments/", views.mine, name="mine"),
    # One appointment (its worker, its counselor)
    path("appointments/<int:appointment_id>/", views.appointment_page, name="appointment"),
    path("appointments/<int:appointment_id>/step/<str:transition>/", views.step, name="step"),
    path("appointments/<int:appointment_id>/reschedule/", views.reschedule, name="reschedule"),
    path("appointments/<int:appointment_id>/calendar.ics", views.ics, name="ics"),
    path("appointments/<int:appointment_id>/notes/", case_views.note_add, name="note_add"),
    # The counselor's cases (counseling/case_views.py)
    path("cases/", case_views.queue, name="queue"),
    path("cases/<int:case_id>/", case_views.case_page, name="case"),
    path("cases/<int:case_id>/acknowledge/", case_views.risk_acknowledge, name="risk_acknowledge"),
    path("cases/<int:case_id>/risk/", case_views.risk_flag, name="risk_flag"),
    path("cases/<int:case_id>/supervisors/", case_views.supervision_grant, name="supervision_grant"),
    path("cases/<int:case_id>/supervisors/<int:supervisor_id>/revoke/", case_views.supervision_revoke,
         name="supervision_revoke"),
    # Group sessions and workshops (counseling/group_views.py): workers, the front desk, the facilitator
    path("groups/", group_views.groups, name="groups"),
    path("groups/<int:session_id>/sign-up/", group_views.group_sign_up, name="group_sign_up"),
    path("groups/places/<int:signup_id>/cancel/", group_views.group_place_cancel, name="group_place_cancel"),
    path("groups/for/<int:worker_id>/", group_views.groups_for_worker, name="groups_for_worker"),
    path("groups/for/<int:worker_id>/<int:session_id>/sign-up/", group_views.group_sign_up_for_worker,
         name="group_sign_up_for_worker"),
    path("groups/lead/", group_views.groups_lead, name="groups_lead"),
    path("groups/lead/<int:session_id>/", group_views.group_roster, name="group_roster"),
    path("groups/lead/<int:session_id>/cancel/", group_views.group_session_cancel, name="group_session_cancel"),
    path("groups/lead/places/<int:signup_id>/attendance/", group_views.group_attendance, name="group_attendance"),
]
