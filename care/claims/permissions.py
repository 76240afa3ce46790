"""Who may do what with a claim. Reading goes through care.permissions (the case's
visibility) and one addition: claims reviewers see the claims waiting for a second approval."""

from care import permissions as hall
from care.claims.models import DEPARTMENT, Claim, ClaimState
from care.roles import Role


def is_claims_staff(user) -> bool:
    return hall.works_department(user, DEPARTMENT)


def is_reviewer(user) -> bool:
    return is_claims_staff(user) and user.has_role(Role.CLAIMS_REVIEWER)


def is_the_member(user, claim: Claim) -> bool:
    return user.is_authenticated and user.has_role(Role.WORKER) and claim.case.worker.user_id == user.pk


def is_handler(user, claim: Claim) -> bool:
    """The claims officer or reviewer who has the claim (took it up, or was granted it)."""
    case = claim.case
    return is_claims_staff(user) and (
        case.assignee_id == user.pk or hall.granted_case_ids(user).filter(content_object_id=case.pk).exists()
    )


def can_act(user, claim: Claim, transition: str) -> bool:
    match transition:
        case "start_review":
            return is_claims_staff(user) and claim.case.assignee_id in (None, user.pk)
        case "answer" | "appeal":
            return is_the_member(user, claim)
        case "withdraw":
            return is_the_member(user, claim)
        case "approve_second" | "return_to_review":
            return is_reviewer(user) and claim.first_approver_id != user.pk
        case "reject":
            if claim.state == ClaimState.SECOND_APPROVAL:
                return is_reviewer(user) and claim.first_approver_id != user.pk
            return is_handler(user, claim)
        case _:  # request_info, approve
            return is_handler(user, claim)


def can_edit_invoices(user, claim: Claim) -> bool:
    """The member while the claim waits for them; the handler while reviewing."""
    if is_the_member(user, claim):
        return claim.member_may_edit
    return is_handler(user, claim) and claim.state == ClaimState.UNDER_REVIEW


def can_import_enrolments(user) -> bool:
    return is_claims_staff(user) and user.has_perm("care.add_enrolmentimport")


def can_make_batches(user) -> bool:
    return is_claims_staff(user) and user.has_perm("care.add_paymentbatch")


def can_pay_batches(user) -> bool:
    return is_claims_staff(user) and user.has_perm("care.change_paymentbatch")


def can_see_figures(user) -> bool:
    return user.is_authenticated and user.has_perm("care.view_figures")
