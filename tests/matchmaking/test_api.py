"""The matchmaking station's REST API under /api/v1/matchmaking/: consent first (posting is the
opt-in), the member's own profile, hidden names and blocks, ranked suggestions, introductions by
mutual consent, reports; the matchmaker's profiles (audited), review, proposals and reports.

Privacy, checked on the raw bytes of every response: another member's contact to share, mobile,
ID number, real name and hall case never leave, and the contact never leaves at all, not even
after both said yes (it goes by SMS only). A decline reads "not now", as an expiry does. Nobody
but the matchmakers reads a profile (403); another member's introduction is a 404. Refusals
answer in the one error shape and change nothing."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from care.models import AuditEvent, Case, OutboundSms
from care.roles import Role
from matchmaking import services
from matchmaking.models import Block, HiddenFrom, Introduction, IntroState, Profile, ProfileState, Report, ReportState
from tests.factories import staff
from tests.matchmaking.helpers import matchmaker, member, worker

pytestmark = pytest.mark.django_db

ROOT = "/api/v1/matchmaking/"
ME = f"{ROOT}me/"
SUGGESTIONS = f"{ROOT}suggestions/"
INTRODUCTIONS = f"{ROOT}introductions/"
PROFILES = f"{ROOT}profiles/"
REPORTS = f"{ROOT}reports/"
PUBLIC_KEYS = {"id", "display_name", "gender", "age", "height_cm", "education", "occupation", "employer_type",
               "employer", "district", "hobbies", "introduction"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def api(user=None, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code and body["message"]
    return body


def fresh(profile) -> Profile:
    return Profile.objects.select_related("worker").get(pk=profile.pk)


def snapshot():
    return (list(Profile.objects.order_by("pk").values_list("state", "display_name", "contact", "height_cm",
                                                            "pref_age_max", "hobbies")),
            list(Introduction.objects.order_by("pk").values_list("state", "first_answer", "second_answer")),
            list(Report.objects.order_by("pk").values_list("state", "outcome")),
            HiddenFrom.objects.count(), Block.objects.count(), Case.objects.count(), OutboundSms.objects.count(),
            AuditEvent.objects.exclude(event_type="matchmaking.profile_viewed").count())


def secrets_of(profile) -> list[bytes]:
    """What must never leave about ``profile`` towards anyone but its member."""
    profile = Profile.objects.select_related("worker", "case").get(pk=profile.pk)
    found = [profile.worker.mobile, profile.worker.mobile.removeprefix("+86"), profile.worker.national_id,
             profile.worker.name]
    if profile.case_id:
        found.append(profile.case.reference)
    return [value.encode() for value in found]


def assert_private(response, *profiles) -> None:
    """None of the profiles' contact, mobile, ID number, name or hall case is in the response."""
    for profile in profiles:
        for secret in [fresh(profile).contact.encode(), *secrets_of(profile)]:
            assert secret not in response.content, secret


def pair():
    return member(gender="male", seeking="female"), member(gender="female", seeking="male")


def viewed(profile) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type="matchmaking.profile_viewed", subject_id=str(profile.pk)))


# --- the member's own profile ----------------------------------------------------------------------


def test_a_worker_opts_in_fills_in_the_profile_and_sends_it_for_review():
    who = worker(born="19900310")
    client = api(who.user)
    assert_error(client.get(ME), 404, "not_found")

    joined = post(client, ME, {"gender": "female", "seeking": "male"})

    assert joined.status_code == 201, joined.content
    body = joined.json()
    profile = Profile.objects.get(worker=who)
    assert (body["id"], body["state"], body["gender"], body["seeking"], body["birth_year"]) == (
        profile.pk, "draft", "female", "male", 1990)
    assert body["consent_at"] and profile.consent_at is not None
    assert post(client, ME, {"gender": "female", "seeking": "male"}).status_code == 200
    assert Profile.objects.count() == 1

    changed = patch(client, ME, {"display_name": "小雨", "height_cm": 165, "education": 4, "hobbies": "登山",
                                 "contact": "wx_rain2026", "pref_age_min": 28, "pref_age_max": 40,
                                 "pref_districts": ["市南区", "市北区"], "show_employer": True})

    assert changed.status_code == 200, changed.content
    mine = changed.json()
    assert (mine["display_name"], mine["height_cm"], mine["education"], mine["contact"]) == (
        "小雨", 165, 4, "wx_rain2026")
    assert (mine["pref_age_min"], mine["pref_age_max"], mine["pref_districts"]) == (28, 40, ["市南区", "市北区"])
    assert mine["employer"] == who.employer and mine["show_employer"] is True
    assert client.get(ME).json() == mine
    for secret in (who.national_id, who.mobile, who.mobile.removeprefix("+86"), who.name):
        assert secret.encode() not in changed.content

    submitted = post(client, f"{ME}submit/")

    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    assert fresh(profile).case_id is not None and fresh(profile).case.reference.encode() not in submitted.content


def test_under_18_cannot_opt_in():
    young = worker(born=f"{timezone.localdate().year - 17}0101")
    before = snapshot()

    body = assert_error(post(api(young.user), ME, {"gender": "male", "seeking": "female"}), 409, "invalid_state")

    assert body["detail"] == {"age": "under_18"} and snapshot() == before


@pytest.mark.parametrize(("data", "field"), [
    ({"seeking": "female"}, "gender"),
    ({"gender": "robot", "seeking": "female"}, "gender"),
    ({"gender": "male", "seeking": ""}, "seeking"),
])
def test_an_invalid_opt_in_answers_400_and_creates_nothing(data, field):
    who = worker()
    before = snapshot()

    body = assert_error(post(api(who.user), ME, data), 400, "invalid")

    assert field in body["detail"] and snapshot() == before


@pytest.mark.parametrize(("data", "field"), [
    ({"display_name": "加我13912345678"}, "display_name"),
    ({"display_name": ""}, "display_name"),
    ({"height_cm": 300}, "height_cm"),
    ({"height_cm": "tall"}, "height_cm"),
    ({"education": 9}, "education"),
    ({"employer_type": "mafia"}, "employer_type"),
    ({"contact": "找我 qq 12345"}, "contact"),
    ({"contact": ""}, "contact"),
    ({"pref_age_min": 40, "pref_age_max": 30}, "pref_age_max"),
    ({"introduction": "字" * (services.TEXT_MAX + 1)}, "introduction"),
    ({"state": "verified"}, "state"),  # no "update anything": the state moves only through its steps
    ({"birth_year": 2000}, "birth_year"),
])
def test_an_invalid_profile_change_answers_400_and_changes_nothing(data, field):
    her = member(gender="female", seeking="male")
    before = snapshot()

    body = assert_error(patch(api(her.worker.user), ME, data), 400, "invalid")

    assert field in body["detail"] and snapshot() == before


def test_a_change_to_what_others_see_sends_a_verified_profile_back_for_review():
    him, her = pair()
    client = api(her.worker.user)

    kept = patch(client, ME, {"pref_age_max": 45})
    assert kept.json()["state"] == "verified"
    changed = patch(client, ME, {"hobbies": "攀岩"})

    assert changed.status_code == 200 and changed.json()["state"] == "submitted"
    assert results(api(him.worker.user).get(SUGGESTIONS)) == []  # hidden until verified again


def test_a_profile_is_sent_for_review_only_with_a_name_and_a_contact():
    who = worker()
    client = api(who.user)
    post(client, ME, {"gender": "male", "seeking": "female"})
    before = snapshot()

    body = assert_error(post(client, f"{ME}submit/"), 400, "invalid")

    assert body["detail"] == {"display_name": "missing"} and snapshot() == before


def test_withdrawal_hides_the_profile_at_once():
    him, her = pair()

    withdrawn = post(api(her.worker.user), f"{ME}withdraw/")

    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["withdrawn_at"]
    assert results(api(him.worker.user).get(SUGGESTIONS)) == []
    assert_error(patch(api(her.worker.user), ME, {"hobbies": "x"}), 409, "invalid_state")


def test_hiding_from_a_named_person_by_mobile():
    him, her = pair()
    client = api(him.worker.user)
    mobile = her.worker.mobile.removeprefix("+86")

    hidden = post(client, f"{ME}hidden-from/", {"mobile": mobile})
    again = post(client, f"{ME}hidden-from/", {"mobile": her.worker.mobile})

    assert hidden.status_code == 201, hidden.content
    assert again.status_code == 200 and again.json()["id"] == hidden.json()["id"]
    assert hidden.json()["mobile"] == f"{mobile[:3]}****{mobile[-4:]}"
    assert set(hidden.json()) == {"id", "mobile", "created_at"}  # nothing says whether she is a member
    assert mobile.encode() not in hidden.content
    assert [row["id"] for row in api(him.worker.user).get(ME).json()["hidden_from"]] == [hidden.json()["id"]]
    assert results(client.get(SUGGESTIONS)) == []
    assert results(api(her.worker.user).get(SUGGESTIONS)) == []  # both ways
    before = snapshot()
    body = assert_error(post(client, f"{ME}hidden-from/", {"mobile": "12345"}), 400, "invalid")
    assert body["detail"] == {"mobile": "invalid"} and snapshot() == before


def test_a_block_is_silent_and_works_both_ways():
    him, her = pair()

    blocked = post(api(her.worker.user), f"{ME}blocks/", {"profile": him.pk})
    again = post(api(her.worker.user), f"{ME}blocks/", {"profile": him.pk})

    assert blocked.status_code == 201, blocked.content
    assert blocked.json()["profile"] == him.pk and again.status_code == 200
    assert [b["profile"] for b in api(her.worker.user).get(ME).json()["blocks"]] == [him.pk]
    assert results(api(him.worker.user).get(SUGGESTIONS)) == []
    assert results(api(her.worker.user).get(SUGGESTIONS)) == []
    assert api(him.worker.user).get(ME).json()["blocks"] == []  # he is not told
    reported = post(api(her.worker.user), REPORTS, {"profile": him.pk, "reason": "骚扰"})  # block, then report
    assert reported.status_code == 201 and reported.json()["reported"] == him.pk
    assert_error(post(api(him.worker.user), f"{ME}blocks/", {"profile": her.pk}), 400, "invalid")


@pytest.mark.parametrize("case", ["unknown", "herself", "not_in_her_pool", "text"])
def test_blocking_someone_the_member_cannot_see_answers_400(case):
    him, her = pair()
    stranger = member(gender="female", seeking="male")
    target = {"unknown": him.pk + 1000, "herself": her.pk, "not_in_her_pool": stranger.pk, "text": "him"}[case]
    before = snapshot()

    body = assert_error(post(api(her.worker.user), f"{ME}blocks/", {"profile": target}), 400, "invalid")

    assert "profile" in body["detail"] and snapshot() == before


# --- suggestions and what others see ----------------------------------------------------------------


def test_suggestions_are_ranked_with_the_score_and_show_only_public_fields():
    him = member(gender="male", seeking="female", district="市南区", pref_districts=["市南区"], education=4)
    close = member(gender="female", seeking="male", district="市南区", employer="海尔集团", show_employer=True,
                   introduction="喜欢读书和旅行", hobbies="登山", occupation="工程师", height_cm=165, education=5,
                   employer_type="private")
    far = member(gender="female", seeking="male", district="崂山区", employer="青啤公司")

    response = api(him.worker.user).get(SUGGESTIONS)

    rows = results(response)
    assert [(r["id"], r["score"]) for r in rows] == [(close.pk, 1.0), (far.pk, 0.0)]
    first = rows[0]
    assert set(first) == PUBLIC_KEYS | {"score"}
    assert (first["display_name"], first["gender"], first["age"], first["height_cm"], first["education"]) == (
        close.display_name, "female", timezone.localdate().year - 1995, 165, 5)
    assert (first["occupation"], first["employer_type"], first["district"], first["hobbies"]) == (
        "工程师", "private", "市南区", "登山")
    assert first["employer"] == "海尔集团" and first["introduction"] == "喜欢读书和旅行"
    assert rows[1]["employer"] == "" and "青啤公司".encode() not in response.content
    assert_private(response, close, far, him)


def test_suggestions_are_empty_before_the_profile_is_verified():
    member(gender="female", seeking="male")
    draft = member(gender="male", seeking="female", verify=False)
    bare = worker()

    assert results(api(draft.worker.user).get(SUGGESTIONS)) == []
    assert results(api(bare.user).get(SUGGESTIONS)) == []


@pytest.mark.parametrize(("role", "department"), [
    (Role.MATCHMAKER, "matchmaking"), (Role.CENTER_MANAGER, ""), (Role.ADMINISTRATOR, ""), (Role.COUNSELOR,
                                                                                             "counseling"),
    (Role.FRONT_DESK, ""),
])
def test_the_member_endpoints_are_for_workers(role, department):
    him, her = pair()
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    client = api(staff(role, department))
    before = snapshot()

    for response in (client.get(ME), post(client, ME, {"gender": "male", "seeking": "female"}),
                     patch(client, ME, {"hobbies": "x"}), post(client, f"{ME}submit/"),
                     post(client, f"{ME}withdraw/"), post(client, f"{ME}hidden-from/", {"mobile": "13900001111"}),
                     post(client, f"{ME}blocks/", {"profile": her.pk}), client.get(SUGGESTIONS),
                     client.get(INTRODUCTIONS), post(client, INTRODUCTIONS, {"profile": her.pk}),
                     post(client, f"{INTRODUCTIONS}{intro.pk}/answer/", {"accept": True}),
                     post(client, REPORTS, {"profile": him.pk, "reason": "x"})):
        assert_error(response, 403, "forbidden")
        assert her.display_name.encode() not in response.content

    assert snapshot() == before


# --- introductions -----------------------------------------------------------------------------------


def test_an_introduction_by_mutual_consent_never_shows_the_contact():
    him, her = pair()
    asker, answerer = api(him.worker.user), api(her.worker.user)

    asked = post(asker, INTRODUCTIONS, {"profile": her.pk})

    assert asked.status_code == 201, asked.content
    mine = asked.json()
    intro = Introduction.objects.get()
    assert (mine["id"], mine["state"], mine["your_answer"], mine["note"]) == (intro.pk, "waiting_for_them",
                                                                            "accepted", "")
    assert set(mine["other"]) == PUBLIC_KEYS and mine["other"]["id"] == her.pk and mine["expires_at"]
    [theirs] = results(answerer.get(INTRODUCTIONS))
    assert (theirs["state"], theirs["your_answer"], theirs["other"]["id"]) == ("waiting_for_you", "", him.pk)
    before = [asked, answerer.get(INTRODUCTIONS), asker.get(INTRODUCTIONS)]
    assert results(asker.get(SUGGESTIONS)) == []  # introduced once

    answered = post(answerer, f"{INTRODUCTIONS}{intro.pk}/answer/", {"accept": True})

    assert answered.status_code == 200, answered.content
    assert answered.json()["state"] == "accepted" and answered.json()["your_answer"] == "accepted"
    assert Introduction.objects.get().state == IntroState.CONTACT_SHARED
    assert OutboundSms.objects.filter(template="match_contact").count() == 2
    after = [answered, answerer.get(INTRODUCTIONS), asker.get(INTRODUCTIONS), asker.get(ME), answerer.get(ME)]
    assert [results(r)[0]["state"] for r in after[1:3]] == ["accepted", "accepted"]
    for response in (*before, *after[:3]):
        assert_private(response, him, her)
    assert fresh(him).contact.encode() in after[3].content  # their own, on their own profile only
    assert fresh(her).contact.encode() not in after[3].content
    assert fresh(him).contact.encode() not in after[4].content


def test_a_decline_reads_not_now_like_an_expiry_and_never_says_who():
    him, her = pair()
    other_her = member(gender="female", seeking="male")
    declined = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    expired = services.introduction_request(actor=him.worker.user, profile=him, other=other_her)
    sms_before = OutboundSms.objects.filter(worker=him.worker).count()

    answered = post(api(her.worker.user), f"{INTRODUCTIONS}{declined.pk}/answer/", {"accept": False})
    services.introductions_expire_due(now=timezone.now() + datetime.timedelta(days=30))

    assert answered.status_code == 200 and answered.json()["state"] == "not_now"
    assert answered.json()["your_answer"] == "declined"
    rows = {row["id"]: row for row in results(api(him.worker.user).get(INTRODUCTIONS))}
    seen = [{k: rows[pk][k] for k in ("state", "state_label", "your_answer", "expires_at", "note")}
            for pk in (declined.pk, expired.pk)]
    assert seen[0] == seen[1] == {"state": "not_now", "state_label": "Not now", "your_answer": "accepted",
                                  "expires_at": None, "note": ""}
    assert b"declin" not in api(him.worker.user).get(INTRODUCTIONS).content
    assert OutboundSms.objects.filter(worker=him.worker).count() == sms_before


def test_the_other_side_is_hidden_while_their_profile_is_not_shown():
    him, her = pair()
    services.introduction_request(actor=him.worker.user, profile=him, other=her)
    services.profile_update(actor=her.worker.user, profile=fresh(her), hobbies="未审核的新爱好")

    response = api(him.worker.user).get(INTRODUCTIONS)

    [row] = results(response)
    assert row["other"] is None and "未审核的新爱好".encode() not in response.content


def test_another_member_s_introduction_is_a_404():
    him, her = pair()
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    stranger = member(gender="female", seeking="male")
    before = snapshot()

    for user in (stranger.worker.user, worker().user):
        assert_error(post(api(user), f"{INTRODUCTIONS}{intro.pk}/answer/", {"accept": True}), 404, "not_found")
        assert results(api(user).get(INTRODUCTIONS)) == []
    assert_error(post(api(her.worker.user), f"{INTRODUCTIONS}{intro.pk + 1000}/answer/", {"accept": True}),
                 404, "not_found")

    assert snapshot() == before


@pytest.mark.parametrize("data", [{}, {"accept": "perhaps"}, {"accept": None}])
def test_an_answer_without_yes_or_no_answers_400_and_changes_nothing(data):
    him, her = pair()
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    before = snapshot()

    body = assert_error(post(api(her.worker.user), f"{INTRODUCTIONS}{intro.pk}/answer/", data), 400, "invalid")

    assert "accept" in body["detail"] and snapshot() == before


@pytest.mark.parametrize("case", ["unknown", "himself", "a_man", "no_profile_id"])
def test_asking_for_someone_outside_the_pool_answers_400(case):
    him, her = pair()
    another_man = member(gender="male", seeking="female")
    data = {"profile": {"unknown": her.pk + 1000, "himself": him.pk, "a_man": another_man.pk}.get(case)}
    if case == "no_profile_id":
        data = {}
    before = snapshot()

    body = assert_error(post(api(him.worker.user), INTRODUCTIONS, data), 400, "invalid")

    assert "profile" in body["detail"] and snapshot() == before


def test_asking_twice_unverified_or_over_the_weekly_limit_answers_409(settings):
    settings.MATCHMAKING_REQUESTS_PER_WEEK = 2
    him, her = pair()
    other_her, third = member(gender="female", seeking="male"), member(gender="female", seeking="male")
    draft = member(gender="male", seeking="female", verify=False)
    client = api(him.worker.user)
    assert post(client, INTRODUCTIONS, {"profile": her.pk}).status_code == 201
    before = snapshot()
    again = assert_error(post(client, INTRODUCTIONS, {"profile": her.pk}), 409, "invalid_state")
    assert snapshot() == before
    assert post(client, INTRODUCTIONS, {"profile": other_her.pk}).status_code == 201
    before = snapshot()

    limit = assert_error(post(client, INTRODUCTIONS, {"profile": third.pk}), 409, "invalid_state")
    unverified = assert_error(post(api(draft.worker.user), INTRODUCTIONS, {"profile": third.pk}), 409,
                              "invalid_state")

    assert again["detail"] == {"introduction": "exists"} and limit["detail"] == {"requests": "limit"}
    assert unverified["detail"] == {"profile": "not_verified"} and snapshot() == before


# --- reports -----------------------------------------------------------------------------------------


def test_a_member_reports_and_the_matchmaker_suspends():
    him, her = pair()
    keeper = api(matchmaker())

    filed = post(api(her.worker.user), REPORTS, {"profile": him.pk, "reason": "言语骚扰"})

    assert filed.status_code == 201, filed.content
    assert (filed.json()["reported"], filed.json()["state"]) == (him.pk, "open")
    listing = keeper.get(REPORTS)
    [row] = results(listing)
    assert (row["id"], row["reason"], row["state"]) == (filed.json()["id"], "言语骚扰", "open")
    assert (row["reporter"]["id"], row["reported"]["id"]) == (her.pk, him.pk)
    assert_private(listing, him, her)

    taken = post(keeper, f"{REPORTS}{row['id']}/handle/", {"step": "review"})
    done = post(keeper, f"{REPORTS}{row['id']}/handle/", {"step": "action", "outcome": "属实", "suspend": True})

    assert taken.json()["state"] == "reviewing" and done.json()["state"] == "actioned"
    assert fresh(him).state == ProfileState.SUSPENDED and results(keeper.get(REPORTS)) == []
    assert_error(post(keeper, f"{REPORTS}{row['id']}/handle/", {"step": "dismiss", "outcome": "x"}), 404,
                 "not_found")


@pytest.mark.parametrize(("data", "field"), [
    ({"profile": None, "reason": "x"}, "profile"),
    ({"profile": 999999, "reason": "x"}, "profile"),
    ({"reason": "   "}, "reason"),
    ({"reason": "x" * (services.TEXT_MAX + 1)}, "reason"),
])
def test_an_invalid_report_answers_400_and_files_nothing(data, field):
    him, her = pair()
    data = {"profile": him.pk, **data}
    before = snapshot()

    body = assert_error(post(api(her.worker.user), REPORTS, data), 400, "invalid")

    assert field in body["detail"] and snapshot() == before


@pytest.mark.parametrize(("data", "status", "code"), [
    ({"step": "close"}, 400, "invalid"),
    ({"step": "action"}, 400, "invalid"),  # an outcome is required
    ({}, 400, "invalid"),
])
def test_an_invalid_report_handling_changes_nothing(data, status, code):
    him, her = pair()
    report = services.report_file(actor=her.worker.user, profile=her, reported=him, reason="骚扰")
    before = snapshot()

    assert_error(post(api(matchmaker()), f"{REPORTS}{report.pk}/handle/", data), status, code)

    assert snapshot() == before and Report.objects.get(pk=report.pk).state == ReportState.OPEN


# --- the matchmaker ----------------------------------------------------------------------------------


def test_the_matchmaker_lists_and_reads_profiles_audited_without_contact_mobile_or_id():
    her = member(gender="female", seeking="male", verify=False, introduction="喜欢读书", employer="海尔集团")
    services.profile_submit(actor=her.worker.user, profile=her)
    him = member(gender="male", seeking="female")
    keeper_user = matchmaker()
    keeper = api(keeper_user)

    listing = keeper.get(PROFILES, {"state": "submitted"})
    everyone = keeper.get(PROFILES)
    detail = keeper.get(f"{PROFILES}{her.pk}/")

    [row] = results(listing)
    assert set(row) == PUBLIC_KEYS | {"state", "state_label", "submitted_at", "return_reason"}
    assert (row["id"], row["state"], row["introduction"], row["employer"]) == (her.pk, "submitted", "喜欢读书", "")
    assert {r["id"] for r in results(everyone)} == {her.pk, him.pk}
    assert detail.status_code == 200 and detail.json() == row
    for response in (listing, everyone, detail):
        assert_private(response, her, him)
        assert "海尔集团".encode() not in response.content
    [event] = viewed(her)
    assert event.actor == keeper_user and not viewed(him)
    assert_error(keeper.get(f"{PROFILES}{her.pk + 1000}/"), 404, "not_found")
    assert_error(keeper.get(PROFILES, {"state": "lost"}), 400, "invalid")


def test_the_matchmaker_verifies_sends_back_and_suspends():
    her = member(gender="female", seeking="male", verify=False)
    services.profile_submit(actor=her.worker.user, profile=her)
    keeper = api(matchmaker())
    url = f"{PROFILES}{her.pk}/review/"

    back = post(keeper, url, {"step": "send_back", "reason": "照片不清楚"})

    assert back.status_code == 200, back.content
    assert (back.json()["state"], back.json()["return_reason"]) == ("returned", "照片不清楚")
    assert api(her.worker.user).get(ME).json()["return_reason"] == "照片不清楚"
    post(api(her.worker.user), f"{ME}submit/")
    assert post(keeper, url, {"step": "verify"}).json()["state"] == "verified"
    assert post(keeper, url, {"step": "suspend", "reason": "投诉核实"}).json()["state"] == "suspended"
    assert post(keeper, url, {"step": "reinstate"}).json()["state"] == "verified"
    assert_private(back, her)


@pytest.mark.parametrize(("data", "status", "code", "detail"), [
    ({"step": "send_back"}, 400, "invalid", {"reason": "missing"}),
    ({"step": "approve"}, 400, "invalid", {"step": "invalid"}),
    ({}, 400, "invalid", None),
    ({"step": "reinstate"}, 409, "invalid_state", None),
])
def test_an_invalid_review_changes_nothing(data, status, code, detail):
    her = member(gender="female", seeking="male", verify=False)
    services.profile_submit(actor=her.worker.user, profile=her)
    before = snapshot()

    body = assert_error(post(api(matchmaker()), f"{PROFILES}{her.pk}/review/", data), status, code)

    if detail is not None:
        assert body["detail"] == detail
    assert snapshot() == before


def test_the_matchmaker_proposes_with_a_note_both_read():
    him, her = pair()

    proposed = post(api(matchmaker()), f"{INTRODUCTIONS}propose/",
                    {"first": her.pk, "second": him.pk, "note": "都喜欢登山"})

    assert proposed.status_code == 201, proposed.content
    body = proposed.json()
    assert (body["state"], body["note"], {body["first"]["id"], body["second"]["id"]}) == (
        "proposed", "都喜欢登山", {him.pk, her.pk})
    assert_private(proposed, him, her)
    for one, other in ((him, her), (her, him)):
        [row] = results(api(one.worker.user).get(INTRODUCTIONS))
        assert (row["state"], row["note"], row["other"]["id"]) == ("waiting_for_you", "都喜欢登山", other.pk)
    assert OutboundSms.objects.filter(template="match_news").count() >= 2


@pytest.mark.parametrize(("case", "status", "code"), [
    ("unknown", 400, "invalid"), ("a_draft", 400, "invalid"), ("blocked", 409, "invalid_state"),
    ("same", 409, "invalid_state"),
])
def test_an_impossible_proposal_changes_nothing(case, status, code):
    him, her = pair()
    draft = member(gender="female", seeking="male", verify=False)
    if case == "blocked":
        services.block(actor=her.worker.user, profile=her, other=him)
    second = {"unknown": her.pk + 1000, "a_draft": draft.pk, "blocked": her.pk, "same": him.pk}[case]
    before = snapshot()

    assert_error(post(api(matchmaker()), f"{INTRODUCTIONS}propose/", {"first": him.pk, "second": second}),
                 status, code)

    assert snapshot() == before


@pytest.mark.parametrize(("role", "department"), [
    (Role.WORKER, ""), (Role.MATCHMAKER, "counseling"), (Role.COUNSELOR, "counseling"), (Role.CENTER_MANAGER, ""),
    (Role.ADMINISTRATOR, ""), (Role.FRONT_DESK, ""),
])
def test_the_matchmaker_endpoints_refuse_everyone_else(role, department):
    him, her = pair()
    report = services.report_file(actor=her.worker.user, profile=her, reported=him, reason="言语骚扰")
    user = him.worker.user if role == Role.WORKER else staff(role, department)
    client = api(user)
    before = snapshot()

    for response in (client.get(PROFILES), client.get(f"{PROFILES}{her.pk}/"),
                     post(client, f"{PROFILES}{her.pk}/review/", {"step": "suspend", "reason": "x"}),
                     post(client, f"{INTRODUCTIONS}propose/", {"first": him.pk, "second": her.pk}),
                     client.get(REPORTS), post(client, f"{REPORTS}{report.pk}/handle/", {"step": "review"})):
        assert_error(response, 403, "forbidden")
        assert "言语骚扰".encode() not in response.content and her.display_name.encode() not in response.content

    assert snapshot() == before and not viewed(her)


# --- anonymous, and the schema ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("get", "me/"), ("post", "me/"), ("patch", "me/"), ("post", "me/submit/"), ("post", "me/withdraw/"),
    ("post", "me/hidden-from/"), ("post", "me/blocks/"), ("get", "suggestions/"), ("get", "introductions/"),
    ("post", "introductions/"), ("post", "introductions/{i}/answer/"), ("post", "introductions/propose/"),
    ("get", "profiles/"), ("get", "profiles/{p}/"), ("post", "profiles/{p}/review/"), ("get", "reports/"),
    ("post", "reports/"), ("post", "reports/{r}/handle/"),
])
def test_anonymous_is_refused_everywhere(method, path):
    him, her = pair()
    intro = services.introduction_request(actor=him.worker.user, profile=him, other=her)
    report = services.report_file(actor=her.worker.user, profile=her, reported=him, reason="x")
    url = ROOT + path.format(i=intro.pk, p=her.pk, r=report.pk)
    before = snapshot()

    response = {"get": api().get, "post": lambda u: post(api(), u, {"step": "verify"}),
                "patch": lambda u: patch(api(), u, {"hobbies": "x"})}[method](url)

    body = assert_error(response, 403, "not_authenticated")
    assert body["detail"] == {} and snapshot() == before


def test_the_openapi_schema_describes_the_matchmaking_endpoints():
    paths = api().get("/api/schema/", {"format": "json"}).json()["paths"]

    assert {"get", "post", "patch"} <= set(paths[ME])
    for path in (f"{ME}submit/", f"{ME}withdraw/", f"{ME}hidden-from/", f"{ME}blocks/", INTRODUCTIONS, REPORTS,
                 f"{INTRODUCTIONS}{{id}}/answer/", f"{INTRODUCTIONS}propose/", f"{PROFILES}{{id}}/review/",
                 f"{REPORTS}{{id}}/handle/"):
        assert "post" in paths[path], path
    for path in (SUGGESTIONS, INTRODUCTIONS, PROFILES, f"{PROFILES}{{id}}/", REPORTS):
        assert "get" in paths[path], path
    assert "state" in {p["name"] for p in paths[PROFILES]["get"]["parameters"]}
