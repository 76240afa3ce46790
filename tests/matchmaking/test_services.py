"""The matchmaking station's rules, through its services: consent and age, review before anyone
sees a profile, ranking (symmetric, both directions counted) and its exclusions, introductions
by mutual consent (the contact goes out only when both said yes, only by SMS), silent declines,
the weekly limit, withdrawal and erasure, blocks and reports."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone, translation

from care.errors import InvalidInput, InvalidState, NotAllowed
from care.models import Case, OutboundSms, Stage
from matchmaking import selectors, services
from matchmaking.models import Block, HiddenFrom, Introduction, IntroState, Profile, ProfileState, Report
from tests.matchmaking.helpers import matchmaker, member, worker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def fresh(profile) -> Profile:
    return Profile.objects.select_related("worker").get(pk=profile.pk)


def contact_sms() -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(template="match_contact").order_by("pk"))


# --- consent, age, review ------------------------------------------------------------------------


def test_opting_in_records_consent_and_the_birth_year_from_the_id():
    who = worker(born="19900310")
    profile = services.profile_opt_in(actor=who.user, worker=who, gender="female", seeking="male")
    assert profile.consent_at is not None and profile.birth_year == 1990 and profile.state == ProfileState.DRAFT
    again = services.profile_opt_in(actor=who.user, worker=who, gender="female", seeking="male")
    assert again.pk == profile.pk


def test_under_18_is_refused_and_nobody_opts_in_for_someone_else():
    young = worker(born=f"{timezone.localdate().year - 17}0101")
    with pytest.raises(InvalidState) as refused:
        services.profile_opt_in(actor=young.user, worker=young, gender="male", seeking="female")
    assert refused.value.detail == {"age": "under_18"} and not Profile.objects.exists()
    adult = worker()
    with pytest.raises(NotAllowed):
        services.profile_opt_in(actor=young.user, worker=adult, gender="male", seeking="female")


def test_a_profile_is_shown_only_once_verified_and_needs_a_name_and_a_contact():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male", verify=False)
    assert selectors.suggestions(profile=him) == []  # hers is a draft
    bare = worker()
    draft = services.profile_opt_in(actor=bare.user, worker=bare, gender="female", seeking="male")
    with pytest.raises(InvalidInput):
        services.profile_submit(actor=bare.user, profile=draft)
    services.profile_submit(actor=her.worker.user, profile=her)
    assert selectors.suggestions(profile=him) == []  # submitted, not verified
    case = Case.objects.get(pk=fresh(her).case_id)
    assert case.department == "matchmaking" and case.stage == Stage.RECEIVED
    services.profile_review(actor=matchmaker(), profile=her, step="verify")
    assert [p.pk for p in selectors.suggestions(profile=him)] == [her.pk]


def test_a_profile_sent_back_carries_the_reason_and_a_change_to_a_verified_one_is_reviewed_again():
    her = member(gender="female", seeking="male", verify=False)
    services.profile_submit(actor=her.worker.user, profile=her)
    with pytest.raises(InvalidInput):  # a reason is required
        services.profile_review(actor=matchmaker(), profile=her, step="send_back")
    returned = services.profile_review(actor=matchmaker(), profile=her, step="send_back", reason="照片不清楚")
    assert returned.state == ProfileState.RETURNED and returned.return_reason == "照片不清楚"
    services.profile_submit(actor=her.worker.user, profile=her)
    services.profile_review(actor=matchmaker(), profile=her, step="verify")
    changed = services.profile_update(actor=her.worker.user, profile=fresh(her), hobbies="登山")
    assert changed.state == ProfileState.SUBMITTED  # hidden until verified again
    kept = services.profile_update(actor=her.worker.user, profile=fresh(her), pref_age_max=40)
    assert kept.state == ProfileState.SUBMITTED


@pytest.mark.parametrize("contact", ["13900001111", "wx_abc123"])
def test_the_contact_is_a_mobile_or_a_wechat_id_and_is_encrypted_at_rest(contact):
    her = member(gender="female", seeking="male", introduction="喜欢读书和旅行")
    services.profile_update(actor=her.worker.user, profile=her, contact=contact)
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact, introduction FROM matchmaking_profile WHERE id = %s", [her.pk])
        raw = " ".join(cursor.fetchone())
    assert contact not in raw and "旅行" not in raw
    with pytest.raises(InvalidInput):
        services.profile_update(actor=her.worker.user, profile=her, contact="找我 qq 12345")


# --- ranking ---------------------------------------------------------------------------------------


def test_the_score_is_symmetric_and_counts_both_directions():
    him = member(gender="male", seeking="female", district="市南区", education=4, height_cm=178,
                 pref_districts=["市南区"], pref_education_min=3)
    close = member(gender="female", seeking="male", district="市南区", education=4, height_cm=165,
                   pref_height_min=170, pref_districts=["市南区", "市北区"])
    half = member(gender="female", seeking="male", district="崂山区", education=5, height_cm=160,
                  pref_height_min=180)  # she wants taller; he wants 市南区
    for a, b in ((him, close), (him, half), (close, half)):
        assert selectors.match_score(a, b) == selectors.match_score(b, a)
    assert selectors.match_score(him, close) == 1.0
    assert selectors.match_score(him, half) == 0.0  # 1/2 of his × 0 of hers
    assert [p.pk for p in selectors.suggestions(profile=him)] == [close.pk, half.pk]


def test_suggestions_respect_gender_and_both_age_ranges():
    him = member(gender="male", seeking="female", born="19900101", pref_age_min=25, pref_age_max=35)
    fits = member(gender="female", seeking="male", born="19960101", pref_age_min=30, pref_age_max=40)
    too_young_for_him = member(gender="female", seeking="male", born="20040101")
    he_is_too_old = member(gender="female", seeking="male", born="19960101", pref_age_max=30)
    a_man = member(gender="male", seeking="female", born="19960101")
    seeks_women = member(gender="female", seeking="female", born="19960101")
    ids = {p.pk for p in selectors.suggestions(profile=him)}
    assert ids == {fits.pk}
    assert not ids & {too_young_for_him.pk, he_is_too_old.pk, a_man.pk, seeks_women.pk}


def test_blocked_introduced_hidden_colleagues_and_named_people_are_never_suggested():
    him = member(gender="male", seeking="female", employer="甲公司")
    blocked_by_her = member(gender="female", seeking="male", employer="乙公司")
    introduced = member(gender="female", seeking="male", employer="乙公司")
    colleague = member(gender="female", seeking="male", employer="甲公司", hide_from_colleagues=False)
    named = member(gender="female", seeking="male", employer="乙公司")
    withdrawn = member(gender="female", seeking="male", employer="乙公司")
    suspended = member(gender="female", seeking="male", employer="乙公司")
    visible = member(gender="female", seeking="male", employer="丙公司")
    services.block(actor=blocked_by_her.worker.user, profile=blocked_by_her, other=him)  # works both ways
    services.introduction_request(actor=introduced.worker.user, profile=introduced, other=him)
    services.hide_from(actor=him.worker.user, profile=him, mobile=named.worker.mobile)
    services.profile_withdraw(actor=withdrawn.worker.user, profile=withdrawn)
    services.profile_review(actor=matchmaker(), profile=suspended, step="suspend", reason="投诉核实")
    assert [p.pk for p in selectors.suggestions(profile=him)] == [visible.pk]
    # his default hides him from colleagues even when she does not hide herself
    assert him.pk not in {p.pk for p in selectors.suggestions(profile=colleague)}
    # a name hidden by him hides him from her too
    assert him.pk not in {p.pk for p in selectors.suggestions(profile=fresh(named))}


# --- introductions by mutual consent ----------------------------------------------------------------


def test_contact_is_sent_only_when_both_said_yes_and_only_to_the_two():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    assert intro.state == IntroState.ACCEPTED_ONE
    assert not contact_sms()
    for message in OutboundSms.objects.all():  # the news SMS carries no contact, no name
        assert him.contact not in message.body and her.contact not in message.body
        assert him.display_name not in message.body
    done = services.introduction_answer(actor=her.worker.user, introduction=intro, accept=True)
    assert done.state == IntroState.CONTACT_SHARED
    to_him, to_her = sorted(contact_sms(), key=lambda m: m.to != him.worker.mobile)
    assert to_him.to == him.worker.mobile and her.contact in to_him.body and him.contact not in to_him.body
    assert to_her.to == her.worker.mobile and him.contact in to_her.body and her.contact not in to_her.body
    again = services.introduction_answer(actor=her.worker.user, introduction=intro, accept=False)
    assert again.state == IntroState.CONTACT_SHARED and len(contact_sms()) == 2


def test_a_decline_is_silent_and_reads_not_now_to_both():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    before = OutboundSms.objects.filter(worker=him.worker).count()
    declined = services.introduction_answer(actor=her.worker.user, introduction=intro, accept=False)
    assert declined.state == IntroState.DECLINED and not contact_sms()
    assert OutboundSms.objects.filter(worker=him.worker).count() == before  # nothing tells him
    assert selectors.as_seen_by(declined, him) == selectors.as_seen_by(declined, her) == "not_now"
    with pytest.raises(InvalidState):  # a pair is introduced once
        services.introduction_request(actor=him.worker.user, profile=him, other=her)


def test_a_matchmaker_proposes_and_a_stranger_cannot_answer():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    other = member(gender="female", seeking="male")
    intro = services.introduction_propose(actor=matchmaker(), first=him, second=her, note="都喜欢登山")
    assert intro.state == IntroState.PROPOSED
    with pytest.raises(NotAllowed):
        services.introduction_answer(actor=other.worker.user, introduction=intro, accept=True)
    with pytest.raises(NotAllowed):
        services.introduction_propose(actor=him.worker.user, first=him, second=other)
    services.introduction_answer(actor=him.worker.user, introduction=intro, accept=True)
    assert Introduction.objects.get(pk=intro.pk).state == IntroState.ACCEPTED_ONE and not contact_sms()
    services.introduction_answer(actor=her.worker.user, introduction=intro, accept=True)
    assert len(contact_sms()) == 2


def test_open_introductions_expire_after_their_time(settings):
    settings.MATCHMAKING_INTRODUCTION_DAYS = 14
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    assert services.introductions_expire_due(now=timezone.now() + datetime.timedelta(days=13)) == 0
    assert services.introductions_expire_due(now=timezone.now() + datetime.timedelta(days=15)) == 1
    assert selectors.as_seen_by(Introduction.objects.get(pk=intro.pk), him) == "not_now"


def test_a_member_may_ask_for_a_limited_number_of_introductions_a_week(settings):
    settings.MATCHMAKING_REQUESTS_PER_WEEK = 2
    him = member(gender="male", seeking="female")
    women = [member(gender="female", seeking="male") for _ in range(3)]
    for her in women[:2]:
        services.introduction_request(actor=him.worker.user, profile=him, other=her)
    with pytest.raises(InvalidState) as refused:
        services.introduction_request(actor=him.worker.user, profile=him, other=women[2])
    assert refused.value.detail == {"requests": "limit"} and Introduction.objects.count() == 2


def test_no_introduction_with_someone_blocked_or_hidden():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    services.block(actor=her.worker.user, profile=her, other=him)
    with pytest.raises(InvalidState):
        services.introduction_request(actor=him.worker.user, profile=him, other=her)
    with pytest.raises(InvalidState):
        services.introduction_propose(actor=matchmaker(), first=him, second=her)
    assert not Introduction.objects.exists()


# --- withdrawal and erasure ---------------------------------------------------------------------------


def test_withdrawal_hides_at_once_and_erases_the_content_after_the_grace_period(settings):
    settings.MATCHMAKING_ERASE_AFTER_DAYS = 30
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male", introduction="喜欢读书", hobbies="登山", district="市南区")
    services.hide_from(actor=her.worker.user, profile=her, mobile="13900009999")
    services.block(actor=her.worker.user, profile=her, other=member(gender="male", seeking="female"))
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    services.profile_withdraw(actor=her.worker.user, profile=her)
    assert her.pk not in {p.pk for p in selectors.suggestions(profile=him)}
    assert Introduction.objects.get(pk=intro.pk).state == IntroState.EXPIRED
    assert Case.objects.get(pk=fresh(her).case_id).stage == Stage.WITHDRAWN
    assert services.profiles_erase_due(now=timezone.now() + datetime.timedelta(days=29)) == 0
    assert fresh(her).introduction == "喜欢读书"
    assert services.profiles_erase_due(now=timezone.now() + datetime.timedelta(days=31)) == 1
    erased = fresh(her)
    assert (erased.introduction, erased.contact, erased.hobbies, erased.district, erased.display_name) == ("",) * 5
    assert erased.erased_at is not None and erased.state == ProfileState.WITHDRAWN
    assert not HiddenFrom.objects.filter(profile=her).exists() and not Block.objects.filter(blocker=her).exists()
    with pytest.raises(InvalidState):
        services.profile_update(actor=her.worker.user, profile=erased, hobbies="again")


# --- reports -------------------------------------------------------------------------------------------


def test_a_report_goes_to_the_matchmaker_who_may_suspend_the_profile():
    him = member(gender="male", seeking="female")
    her = member(gender="female", seeking="male")
    report = services.report_file(actor=her.worker.user, profile=her, reported=him, reason="言语骚扰")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM matchmaking_report WHERE id = %s", [report.pk])
        assert "骚扰" not in cursor.fetchone()[0]
    assert [r.pk for r in selectors.reports_for_matchmaker(user=matchmaker())] == [report.pk]
    assert list(selectors.reports_for_matchmaker(user=her.worker.user)) == []
    reviewer = matchmaker()
    services.report_handle(actor=reviewer, report=report, step="review")
    handled = services.report_handle(actor=reviewer, report=report, step="action", outcome="核实属实，暂停资料",
                                     suspend=True)
    assert handled.state == "actioned" and fresh(him).state == ProfileState.SUSPENDED
    assert him.pk not in {p.pk for p in selectors.suggestions(profile=her)}
    with pytest.raises(NotAllowed):
        services.report_handle(actor=her.worker.user, report=Report.objects.get(pk=report.pk), step="dismiss")
