"""Agreement signing (legal.signing_views), included under /sign/ by config.urls. The prefix
names no service: these links are sent by SMS (a /legal/ link would name the service)."""

from django.urls import path

from legal import signing_views

app_name = "signing"

urlpatterns = [
    path("send/<int:document_id>/", signing_views.send_for_signing, name="send"),
    path("<str:token>/", signing_views.sign, name="sign"),
    path("<str:token>/document/", signing_views.sign_document, name="document"),
]
