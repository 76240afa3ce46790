"""The computation of a claim by its plan rules, as tables: deductible, ratios, caps, rounding,
plan versions by treatment date, cap years, waiting periods and renewals."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from care.claims import rules, selectors, services
from care.claims.models import ClaimState, Enrolment, PlanVersion
from care.errors import InvalidInput
from tests.care.claims.helpers import enrol, file_claim, invoice, make_plan
from tests.factories import WorkerFactory

D = Decimal


@pytest.fixture(autouse=True)
def _english():
    """Refusals are matched by their English text (SMS still follow each member's language)."""
    with translation.override("en"):
        yield
RULES = rules.Rules(version_id=1, waiting_days=90, deductible=D("800.00"),
                    ratios={"inpatient": D("0.5"), "serious_illness": D("0.7"), "accident": D("0.333")},
                    per_claim_cap=D("20000.00"), annual_cap=D("50000.00"))


@pytest.mark.parametrize(("category", "self_paid", "used", "payable", "steps"), [
    # below the deductible: nothing
    ("inpatient", ["500.00"], "0", "0.00", ["500.00", "0.00", "0.00", "0.00", "0.00"]),
    # exactly the deductible: nothing
    ("inpatient", ["800.00"], "0", "0.00", ["800.00", "0.00", "0.00", "0.00", "0.00"]),
    # several invoices add up before the deductible is taken once
    ("inpatient", ["600.00", "700.00"], "0", "250.00", ["1300.00", "500.00", "250.00", "250.00", "250.00"]),
    # the category's ratio
    ("serious_illness", ["10800.00"], "0", "7000.00", ["10800.00", "10000.00", "7000.00", "7000.00", "7000.00"]),
    # rounding half up to the fen: 1000.01 * 0.5 = 500.005 → 500.01
    ("inpatient", ["1800.01"], "0", "500.01", ["1800.01", "1000.01", "500.01", "500.01", "500.01"]),
    # 0.333 * 1000.00 = 333.000; * 1000.03 = 333.00999 → 333.01
    ("accident", ["1800.03"], "0", "333.01", ["1800.03", "1000.03", "333.01", "333.01", "333.01"]),
    # the per-claim cap
    ("serious_illness", ["100800.00"], "0", "20000.00",
     ["100800.00", "100000.00", "70000.00", "20000.00", "20000.00"]),
    # the annual cap: what is left of it
    ("inpatient", ["10800.00"], "47000.00", "3000.00", ["10800.00", "10000.00", "5000.00", "5000.00", "3000.00"]),
    # the annual cap used up
    ("inpatient", ["10800.00"], "50000.00", "0.00", ["10800.00", "10000.00", "5000.00", "5000.00", "0.00"]),
    # used beyond the cap (an older version had a higher cap): never negative
    ("inpatient", ["10800.00"], "60000.00", "0.00", ["10800.00", "10000.00", "5000.00", "5000.00", "0.00"]),
    # a category the version does not cover
    ("chronic_outpatient", ["10800.00"], "0", "0.00", ["10800.00", "10000.00", "0.00", "0.00", "0.00"]),
    # no invoices
    ("inpatient", [], "0", "0.00", ["0.00", "0.00", "0.00", "0.00", "0.00"]),
])
def test_compute_table(category, self_paid, used, payable, steps):
    computation = rules.compute(rules=RULES, category=category, self_paid=[D(x) for x in self_paid],
                                used_this_year=D(used))
    assert computation.payable == D(payable)
    assert [s.code for s in computation.steps] == ["base", "deductible", "ratio", "per_claim_cap", "annual_cap"]
    assert [str(s.amount) for s in computation.steps] == steps


def test_computation_json_keeps_the_numbers_as_text():
    computation = rules.compute(rules=RULES, category="inpatient", self_paid=[D("1800.01")], used_this_year=D(0))
    data = computation.as_json(version_id=7)
    assert data["version"] == 7 and data["payable"] == "500.01"
    assert data["steps"][1] == {"code": "deductible", "amount": "1000.01", "args": {"deductible": "800.00"}}


@pytest.mark.parametrize("raw", [{"inpatient": "1.5"}, {"inpatient": "-0.1"}, {"inpatient": "half"},
                                 {"inpatient": "NaN"}, ["inpatient"]])
def test_bad_ratios_are_refused(raw):
    with pytest.raises(ValueError):
        rules.parse_ratios(raw)


# --- with the database: versions, cover, cap years -------------------------------------------


@pytest.mark.django_db
def test_the_version_in_force_on_the_treatment_date_is_used():
    plan = make_plan(effective_from=datetime.date(2020, 1, 1), deductible="800.00")
    PlanVersion.objects.create(plan=plan, effective_from=datetime.date(2026, 7, 1), waiting_days=90,
                               deductible=D("500.00"), ratios={"inpatient": "0.60"}, per_claim_cap=D("20000"),
                               annual_cap=D("50000"))
    worker = WorkerFactory()
    enrolment = enrol(worker, plan, starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2026, 12, 31))
    old_rules = selectors.version_in_force(plan_id=plan.pk, day=datetime.date(2026, 6, 30))
    new_rules = selectors.version_in_force(plan_id=plan.pk, day=datetime.date(2026, 7, 1))
    assert old_rules.deductible == D("800.00") and new_rules.deductible == D("500.00")
    assert selectors.version_in_force(plan_id=plan.pk, day=datetime.date(2019, 12, 31)) is None
    june = file_claim(enrolment=enrolment, admitted_on=datetime.date(2026, 6, 30),
                      invoices=[invoice("JUNE000001", "1800.00")])
    july = file_claim(enrolment=enrolment, admitted_on=datetime.date(2026, 7, 1),
                      invoices=[invoice("JULY000001", "1800.00")])
    assert june.payable == D("500.00")  # (1800 - 800) * 0.5
    assert july.payable == D("780.00")  # (1800 - 500) * 0.6
    assert june.plan_version_id == old_rules.pk and july.plan_version_id == new_rules.pk


@pytest.mark.django_db
def test_no_rules_in_force_yet_is_refused():
    plan = make_plan(effective_from=datetime.date(2026, 1, 1))
    enrolment = enrol(WorkerFactory(), plan, starts_on=datetime.date(2024, 1, 1), ends_on=datetime.date(2026, 12, 31))
    with pytest.raises(InvalidInput, match="no rules"):
        services.check_cover(enrolment=enrolment, admitted_on=datetime.date(2025, 12, 31))


@pytest.mark.django_db
@pytest.mark.parametrize(("admitted_on", "ok"), [
    (datetime.date(2026, 3, 31), False),  # day 89 of cover: still waiting
    (datetime.date(2026, 4, 1), True),  # day 90: covered (1 Jan + 90 days)
    (datetime.date(2025, 12, 31), False),  # before the cover starts
    (datetime.date(2027, 1, 1), False),  # after it ends
])
def test_cover_and_waiting_period(admitted_on, ok):
    plan = make_plan(waiting_days=90)
    enrolment = enrol(WorkerFactory(), plan, starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 12, 31))
    if ok:
        assert services.check_cover(enrolment=enrolment, admitted_on=admitted_on)
    else:
        with pytest.raises(InvalidInput):
            services.check_cover(enrolment=enrolment, admitted_on=admitted_on)


@pytest.mark.django_db
def test_a_renewal_without_a_gap_does_not_wait_again_but_one_after_a_gap_does():
    plan = make_plan(waiting_days=90)
    worker = WorkerFactory()
    enrol(worker, plan, starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2025, 12, 31))
    renewal = enrol(worker, plan, starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 12, 31))
    assert services.check_cover(enrolment=renewal, admitted_on=datetime.date(2026, 1, 5))
    other = WorkerFactory()
    enrol(other, plan, starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2025, 11, 30))
    after_gap = enrol(other, plan, starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 12, 31))
    with pytest.raises(InvalidInput, match="waiting period"):
        services.check_cover(enrolment=after_gap, admitted_on=datetime.date(2026, 1, 5))


@pytest.mark.django_db
def test_the_annual_cap_counts_approved_and_paid_claims_of_the_same_year_plan_and_member():
    plan = make_plan(annual_cap="6000.00", per_claim_cap="20000.00", deductible="0.00", waiting_days=0,
                     ratios={"inpatient": "1"})
    worker = WorkerFactory()
    enrolment = enrol(worker, plan, starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2026, 12, 31))
    from care.claims.models import Claim

    def approved(admitted_on, amount, state=ClaimState.APPROVED, number=None):
        claim = file_claim(enrolment=enrolment, admitted_on=admitted_on,
                           invoices=[invoice(number or f"N{admitted_on:%Y%m%d}{amount[:3]}", amount)])
        Claim.objects.filter(pk=claim.pk).update(state=state, approved_amount=D(amount))
        return claim

    approved(datetime.date(2025, 12, 31), "5000.00")  # last year: does not count
    approved(datetime.date(2026, 1, 1), "2000.00", ClaimState.PAID)
    approved(datetime.date(2026, 2, 1), "1500.00")
    rejected = file_claim(enrolment=enrolment, admitted_on=datetime.date(2026, 3, 1),
                          invoices=[invoice("REJ0000001", "900.00")])
    Claim.objects.filter(pk=rejected.pk).update(state=ClaimState.REJECTED, approved_amount=None)
    # someone else's claims never count
    other = enrol(WorkerFactory(), plan, starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2026, 12, 31))
    other_claim = file_claim(enrolment=other, admitted_on=datetime.date(2026, 2, 1),
                             invoices=[invoice("OTH0000001", "4000.00")])
    Claim.objects.filter(pk=other_claim.pk).update(state=ClaimState.APPROVED, approved_amount=D("4000.00"))

    assert selectors.used_in_year(worker_id=worker.pk, plan_id=plan.pk, year=2026) == D("3500.00")
    assert selectors.used_in_year(worker_id=worker.pk, plan_id=plan.pk, year=2025) == D("5000.00")
    new = file_claim(enrolment=enrolment, admitted_on=datetime.date(2026, 4, 1),
                     invoices=[invoice("NEW0000001", "4000.00")])
    assert new.cap_year == 2026
    assert new.payable == D("2500.00")  # 6000 - 3500 left
    assert Enrolment.objects.count() == 2
