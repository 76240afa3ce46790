"""The claims REST API, under /api/v1/claims/ (namespace "claims_api")."""


app_name = "claims_api"

urlpatterns: list = []
