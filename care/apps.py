from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "care"
    verbose_name = _("Service hall")

    def ready(self):
        from care.registry import Department, register_department

        # Mutual-insurance claims are run by the hall itself.
        register_department(Department("claims", _("Mutual-insurance claims"), timedelta(days=5), "claims:for_case"))
        from care.claims import services  # noqa: F401 - registers the claims SMS templates
