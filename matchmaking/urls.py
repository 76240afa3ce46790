"""Pages of the matchmaking station, under /matchmaking/ (namespace "matchmaking")."""

from django.urls import path

from matchmaking import views

app_name = "matchmaking"

urlpatterns = [
    # The member
    path("", views.home, name="home"),
    path("profile/", views.profile_edit, name="profile"),
    path("preferences/", views.preferences, name="preferences"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("introductions/", views.introductions, name="introductions"),
    path("introductions/<int:introduction_id>/answer/", views.answer, name="answer"),
    path("people/<int:profile_id>/ask/", views.ask, name="ask"),
    path("people/<int:profile_id>/block/", views.block, name="block"),
    path("people/<int:profile_id>/report/", views.report, name="report"),
    path("withdraw/", views.withdraw, name="withdraw"),
    # The matchmaker
    path("members/", views.members, name="members"),
    path("members/<int:profile_id>/", views.member, name="member"),
    path("reports/", views.reports, name="reports"),
]
