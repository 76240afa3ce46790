import datetime
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from care import registry


class CounselingConfig(registry.DepartmentAppConfig):
    name = "counseling"
    verbose_name = _("Psychological counseling")
    response_time = timedelta(days=2)

    def ready(self):
        super().ready()
        from care.roles import Role
        from care.tasks_runtime import register_daily
        from counseling import demo, selectors, services  # noqa: F401 - services registers the counseling SMS templates
        from counseling.models import Appointment, GroupSignup

        # A case with an appointment or a group place ends through it (completed, missed, cancelled,
        # attended or absent), never in the hall.
        registry.register_file_check("counseling", lambda case: (
            Appointment.objects.filter(case_id=case.pk).exists()
            or GroupSignup.objects.filter(case_id=case.pk).exists()))
        registry.register_nav(roles={Role.WORKER}, label=_("Appointments"), url_name="counseling:mine")
        registry.register_nav(roles={Role.COUNSELOR}, label=_("My appointments"), url_name="counseling:day")
        registry.register_nav(roles={Role.COUNSELOR}, label=_("Cases"), url_name="counseling:queue")
        registry.register_walk_in_action(label=_("Book an appointment for this worker"),
                                         url_name="counseling:book_for_worker")
        registry.register_nav(roles={Role.WORKER}, label=_("Group sessions"), url_name="counseling:groups")
        registry.register_nav(roles={Role.COUNSELOR}, label=_("Group sessions"), url_name="counseling:groups_lead")
        registry.register_walk_in_action(label=_("Sign this worker up for a group session"),
                                         url_name="counseling:groups_for_worker")
        registry.register_demo_seeder(demo.seed)
        # The safety net of the reminders: each reminder also wakes the sweep at its own time
        # (services._schedule_reminders); once a day the sweep runs anyway.
        register_daily("counseling.tasks.send_due_reminders", datetime.time(7, 0))
        registry.register_figures("counseling", selectors.figures)
