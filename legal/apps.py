from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from care import registry


class LegalConfig(registry.DepartmentAppConfig):
    name = "legal"
    verbose_name = _("Legal aid")
    response_time = timedelta(days=3)
