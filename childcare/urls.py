"""Pages of the care station, under /childcare/ (namespace "childcare")."""

from django.urls import path

from childcare import views

app_name = "childcare"

urlpatterns = [
    # The guardian
    path("", views.mine, name="mine"),
    path("children/new/", views.child_new, name="child_new"),
    path("children/<int:child_id>/", views.child_page, name="child"),
    path("children/<int:child_id>/pickup/", views.pickup_add, name="pickup_add"),
    path("children/<int:child_id>/enrol/", views.enrol, name="enrol"),
    path("pickup/<int:person_id>/remove/", views.pickup_remove, name="pickup_remove"),
    path("pickup/<int:person_id>/photo/", views.pickup_photo, name="pickup_photo"),
    path("enrolments/<int:enrolment_id>/withdraw/", views.withdraw, name="withdraw"),
    # The front desk, for a walk-in
    path("for/<int:worker_id>/", views.child_for_worker, name="child_for_worker"),
    path("for/<int:worker_id>/enrol/", views.enrol_for_worker, name="enrol_for_worker"),
    # The door
    path("roster/", views.roster, name="roster"),
    path("roster/<int:enrolment_id>/check-in/", views.check_in, name="check_in"),
    path("attendance/<int:attendance_id>/check-out/", views.check_out, name="check_out"),
    path("enrolments/<int:enrolment_id>/incident/", views.incident_new, name="incident_new"),
    path("incidents/", views.incidents, name="incidents"),
    # The coordinator
    path("programmes/", views.programmes, name="programmes"),
    path("programmes/<int:programme_id>/", views.programme_page, name="programme"),
    path("programmes/<int:programme_id>/attendance.xlsx", views.attendance_export, name="attendance_export"),
]
