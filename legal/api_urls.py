from rest_framework.routers import SimpleRouter

from legal import api

router = SimpleRouter()
router.register("cases", api.LegalCaseViewSet, basename="legal-case")

urlpatterns = router.urls
