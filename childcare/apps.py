import datetime
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from care import registry


class ChildcareConfig(registry.DepartmentAppConfig):
    name = "childcare"
    verbose_name = _("Childcare care station")
    response_time = timedelta(days=3)

    def ready(self):
        super().ready()
        from care.roles import Role
        from care.tasks_runtime import register_daily
        from childcare import demo, selectors, services  # noqa: F401 - services registers the care station's SMS templates
        from childcare.models import Enrolment

        # An enrolment's case ends through the enrolment (withdrawn, finished), never in the hall.
        registry.register_file_check("childcare", lambda case: Enrolment.objects.filter(case_id=case.pk).exists())
        registry.register_nav(roles={Role.WORKER}, label=_("My children"), url_name="childcare:mine")
        registry.register_nav(roles={Role.CHILDCARE_STAFF}, label=_("Today's roster"), url_name="childcare:roster")
        registry.register_nav(roles={Role.CHILDCARE_STAFF}, label=_("Programmes"), url_name="childcare:programmes")
        registry.register_nav(roles={Role.CHILDCARE_STAFF}, label=_("Incidents"), url_name="childcare:incidents")
        registry.register_walk_in_action(label=_("Register a child for care"), url_name="childcare:child_for_worker")
        registry.register_demo_seeder(demo.seed)
        register_daily("childcare.tasks.closing_sweep", datetime.time(21, 0))
        register_daily("childcare.tasks.finish_ended_programmes", datetime.time(1, 0))
        registry.register_figures("childcare", selectors.figures)
