from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from care import registry


class CounselingConfig(registry.DepartmentAppConfig):
    name = "counseling"
    verbose_name = _("Psychological counseling")
    response_time = timedelta(days=2)

    def ready(self):
        super().ready()
        from counseling import services  # noqa: F401 - registers the counseling SMS templates
        from counseling.models import Appointment

        # A case with appointments ends through them (completed, missed or cancelled), never in the hall.
        registry.register_file_check("counseling", lambda case: Appointment.objects.filter(case_id=case.pk).exists())
