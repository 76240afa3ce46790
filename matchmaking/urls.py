"""Pages of the matchmaking station, under /matchmaking/ (namespace "matchmaking")."""

from django.urls import path

from matchmaking import views

app_name = "matchmaking"

urlpatterns = [
    # The member
    path("", views.home, name="home"),
    path("profile/", views.profile_edit, name="profile"),
    path("preferences/", views.preferences, name="preferences"),
    path("photos/", views.photo_add, name="photo_add"),
    path("photos/<int:photo_id>/", views.photo, name="photo"),
    path("photos/<int:photo_id>/remove/", views.photo_remove, name="photo_remove"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("introductions/", views.introductions, name="introductions"),
    path("introductions/<int:introduction_id>/answer/", views.answer, name="answer"),
    path("people/<int:profile_id>/ask/", views.ask, name="ask"),
    path("people/<int:profile_id>/block/", views.block, name="block"),
    path("people/<int:profile_id>/report/", views.report, name="report"),
    path("withdraw/", views.withdraw, name="withdraw"),
    path("events/", views.events, name="events"),
    path("events/<int:event_id>/sign-up/", views.event_sign_up, name="event_sign_up"),
    path("events/<int:event_id>/marks/", views.event_marks, name="event_marks"),
    path("events/places/<int:signup_id>/give-back/", views.event_give_back, name="event_give_back"),
    # The matchmaker
    path("members/", views.members, name="members"),
    path("members/<int:profile_id>/", views.member, name="member"),
    path("reports/", views.reports, name="reports"),
    path("introductions/all/", views.introductions_all, name="introductions_all"),
    path("events/manage/", views.events_manage, name="events_manage"),
    path("events/manage/<int:event_id>/", views.event_roster, name="event_roster"),
]
