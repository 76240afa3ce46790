from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from care import registry


class CounselingConfig(registry.DepartmentAppConfig):
    name = "counseling"
    verbose_name = _("Psychological counseling")
    response_time = timedelta(days=2)
