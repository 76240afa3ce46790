"""Pages of counseling appointments, under /counseling/ (namespace "counseling")."""

from django.urls import path

from counseling import views

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
]
