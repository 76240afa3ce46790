from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from care import registry


class ChildcareConfig(registry.DepartmentAppConfig):
    name = "childcare"
    verbose_name = _("Childcare care station")
    response_time = timedelta(days=3)
