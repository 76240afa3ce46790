from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("care.api_urls")),
    path("api/v1/claims/", include("care.claims.api_urls")),
    path("api/v1/legal/", include("legal.api_urls")),
    path("api/v1/counseling/", include("counseling.api_urls")),
    path("api/v1/childcare/", include("childcare.api_urls")),
    path("api/v1/matchmaking/", include("matchmaking.api_urls")),
    path("claims/", include("care.claims.urls")),
    path("legal/", include("legal.urls")),
    path("counseling/", include("counseling.urls")),
    path("childcare/", include("childcare.urls")),
    path("matchmaking/", include("matchmaking.urls")),
    path("sign/", include("legal.signing_urls")),  # agreement signing by personal link (ADR 0009)
    path("meet/", include("legal.video_urls")),  # video hearings by personal link (ADR 0017)
    path("admin/", admin.site.urls),
    path("", include("care.urls")),
]

handler404 = "care.api_errors.page_not_found"
