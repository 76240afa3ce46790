"""The roles of the hall (see shared/design/glossary.md). Each is an auth group of that name."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    WORKER = "worker", _("Worker")
    FRONT_DESK = "front_desk", _("Front desk")
    LEGAL_OFFICER = "legal_officer", _("Legal aid officer")
    MEDIATOR = "mediator", _("Mediator")
    ARBITRATOR = "arbitrator", _("Arbitrator")
    COUNSELOR = "counselor", _("Counselor")
    CLAIMS_OFFICER = "claims_officer", _("Claims officer")
    CLAIMS_REVIEWER = "claims_reviewer", _("Claims reviewer")
    CHILDCARE_STAFF = "childcare_staff", _("Care station staff")
    MATCHMAKER = "matchmaker", _("Matchmaker")
    CENTER_MANAGER = "center_manager", _("Center manager")
    ADMINISTRATOR = "administrator", _("Administrator")


# Staff roles that work a department's queue, by department code.
DEPARTMENT_ROLES: dict[str, set[str]] = {
    "legal": {Role.LEGAL_OFFICER, Role.MEDIATOR},
    "counseling": {Role.COUNSELOR},
    "claims": {Role.CLAIMS_OFFICER, Role.CLAIMS_REVIEWER},
    "childcare": {Role.CHILDCARE_STAFF},
    "matchmaking": {Role.MATCHMAKER},
}

# Model permissions each role's group holds (app_label.codename). A model permission lets a
# role use a kind of page; it never opens someone else's case (see care.permissions).
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.WORKER: ["care.add_case"],
    Role.FRONT_DESK: [
        "care.add_case", "care.add_worker", "care.view_worker", "care.view_case_summary",
        "care.view_outboundsms", "care.retry_outboundsms",
    ],
    Role.LEGAL_OFFICER: ["care.view_case", "care.change_case"],
    Role.MEDIATOR: ["care.view_case", "care.change_case"],
    Role.ARBITRATOR: ["care.view_case"],
    Role.COUNSELOR: ["care.view_case", "care.change_case"],
    Role.CLAIMS_OFFICER: [
        "care.view_case", "care.change_case", "care.add_enrolmentimport", "care.view_enrolment",
        "care.add_paymentbatch", "care.view_paymentbatch", "care.change_paymentbatch",
    ],
    Role.CLAIMS_REVIEWER: [
        "care.view_case", "care.change_case", "care.view_enrolment", "care.view_paymentbatch",
        "care.change_paymentbatch",
    ],
    Role.CHILDCARE_STAFF: ["care.view_case", "care.change_case"],
    Role.MATCHMAKER: ["care.view_case", "care.change_case"],
    Role.CENTER_MANAGER: ["care.view_figures"],
    Role.ADMINISTRATOR: [
        "care.view_figures", "care.view_plan", "care.add_plan", "care.change_plan", "care.view_planversion",
        "care.add_planversion", "care.change_planversion", "care.view_auditevent", "care.view_outboundsms",
        "care.retry_outboundsms",
    ],
}


def sync_role_groups(apps) -> None:
    """Make each role's group hold its permissions (idempotent). Called by migrations with
    their historical ``apps``; permissions whose model does not exist yet are left for the
    migration that creates it."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True  # migration stubs have none
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is not None:
                group.permissions.add(found)
