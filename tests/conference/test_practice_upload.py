from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseboard.care.models import Notification
from caseboard.conference import actions
from caseboard.conference.errors import ConferenceError
from caseboard.conference.models import (
    EntrySource,
    HighRiskEntry,
    HighRiskUpload,
    MatchReview,
    ReviewStatus,
    UploadOutcome,
)
from caseboard.patients.models import Patient
from tests import factories
from tests.conference.makers import lists, member_of_a, project_manager
from tests.conftest import World, login
from tests.factories import actor_for

HEADER = "mrn,first_name,last_name,birth_date,phone,address,postal_code,rank,reason\n"


def csv(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def upload(world: World, data: bytes, **kw: bool) -> HighRiskUpload:
    _, practice_list = lists(world.partnership_a)
    return actions.upload_practice_list(
        actor_for(world.user_a), practice_list, "top30.csv", data, **kw
    )


@pytest.fixture
def people(world: World) -> dict[str, Patient]:
    """Plan P members: Lena (clean), Jonathan (typo'd in the file), two Maria Santos born the
    same day (ambiguous), and one plan member the practice does not have."""
    santos_born = datetime.date(1980, 6, 1)
    return {
        "lena": member_of_a(world, "Lena", "Okafor", datetime.date(1984, 3, 9), mrn="A-100"),
        "jonathan": member_of_a(world, "Jonathan", "Reyes", datetime.date(1990, 3, 15)),
        "santos1": member_of_a(world, "Maria", "Santos", santos_born, phone="(617) 555-0101"),
        "santos2": factories.make_patient(
            plan=world.plan, given_name="Maria", family_name="Santos", birth_date=santos_born
        ),
    }


CLEAN = "A-100,Lena,Okafor,1984-03-09,,,,,CHF; lives alone"
TYPO = ",Jonathon,Reyez,03/15/1990,,,,,3 ED visits"
AMBIGUOUS = ",Maria,Santos,1980-06-01,,,,,insulin pump"
NOBODY = ",Tom,Nobody,1955-01-01,,,,,"


def test_matched_rows_join_the_practice_list_in_file_order(
    world: World, people: dict[str, Patient]
) -> None:
    record = upload(world, csv(TYPO, CLEAN))
    assert record.outcome == UploadOutcome.IMPORTED
    assert (record.rows_total, record.rows_matched, record.rows_in_review) == (2, 2, 0)
    _, practice_list = lists(world.partnership_a)
    entries = list(practice_list.entries.order_by("rank"))
    assert [(e.patient, e.rank) for e in entries] == [(people["jonathan"], 1), (people["lena"], 2)]
    assert entries[1].reasons == ["CHF", "lives alone"]
    assert all(e.source == EntrySource.UPLOADED and e.upload == record for e in entries)
    assert bytes(record.content) == csv(TYPO, CLEAN)


def test_an_explicit_rank_column_orders_the_list(world: World, people: dict[str, Patient]) -> None:
    upload(
        world,
        csv("A-100,Lena,Okafor,1984-03-09,,,,2,", ",Jonathan,Reyes,1990-03-15,,,,1,"),
    )
    _, practice_list = lists(world.partnership_a)
    assert [e.patient for e in practice_list.entries.order_by("rank")] == [
        people["jonathan"],
        people["lena"],
    ]


def test_bad_rows_are_reported_by_row_field_and_reason_and_nothing_is_taken(
    world: World, people: dict[str, Patient]
) -> None:
    data = csv(
        CLEAN,
        ",,Reyes,2031-04-01,12,,1234,0,",
        "A-100,Lena,Okafor,1984-03-09,,,,,",
    )
    record = upload(world, data)
    assert record.outcome == UploadOutcome.REJECTED
    found = {(e["row"], e["field"]): e["reason"] for e in record.errors}
    assert found[(3, "first_name")] == "is required"
    assert found[(3, "birth_date")] == "2031-04-01 is in the future"
    assert "not a valid telephone number" in found[(3, "phone")]
    assert "ZIP code" in found[(3, "postal_code")]
    assert "from 1 to" in found[(3, "rank")]
    assert found[(4, "mrn")] == "repeats the MRN of row 2"
    assert record.rows_rejected == 2
    assert not HighRiskEntry.objects.exists() and not MatchReview.objects.exists()


def test_good_rows_only_takes_the_good_rows(world: World, people: dict[str, Patient]) -> None:
    record = upload(world, csv(CLEAN, ",,Reyes,1990-03-15,,,,,", AMBIGUOUS), good_rows_only=True)
    assert record.outcome == UploadOutcome.PARTLY_IMPORTED
    assert (record.rows_matched, record.rows_in_review, record.rows_rejected) == (1, 1, 1)
    assert HighRiskEntry.objects.get().patient == people["lena"]


def test_a_bad_header_names_the_columns(world: World) -> None:
    record = upload(world, b"first_name,surname,birth_date\nLena,Okafor,1984-03-09\n")
    reasons = {(e["field"], e["reason"]) for e in record.errors}
    assert ("last_name", "required column is missing") in reasons
    assert any(f == "surname" and r.startswith("unknown column") for f, r in reasons)


def test_two_rows_for_the_same_member_are_refused(world: World, people: dict[str, Patient]) -> None:
    record = upload(world, csv(CLEAN, ",Lena,Okafor,1984-03-09,,,,,"))
    assert record.outcome == UploadOutcome.REJECTED
    assert record.errors[0]["reason"] == "describes the same patient as row 2"


def test_ambiguous_and_unmatched_rows_wait_for_the_plans_project_manager(
    world: World, people: dict[str, Patient]
) -> None:
    pm = project_manager(world)
    record = upload(world, csv(CLEAN, AMBIGUOUS, NOBODY))
    assert record.outcome == UploadOutcome.IMPORTED
    assert (record.rows_matched, record.rows_in_review) == (1, 2)
    ambiguous = MatchReview.objects.get(row=3)
    assert ambiguous.matcher_status == "ambiguous" and ambiguous.status == ReviewStatus.PENDING
    assert {c["patient_id"] for c in ambiguous.candidates} == {
        people["santos1"].pk,
        people["santos2"].pk,
    }
    assert ambiguous.intended_rank == 2
    assert MatchReview.objects.get(row=4).matcher_status == "unmatched"
    note = Notification.objects.get(user=pm)
    assert note.kind == "match_review" and "Santos" not in note.title
    assert HighRiskEntry.objects.count() == 1, "nothing is guessed"


def test_the_same_file_uploaded_again_changes_nothing(
    world: World, people: dict[str, Patient]
) -> None:
    data = csv(CLEAN, AMBIGUOUS)
    first = upload(world, data)
    again = upload(world, data)
    assert again.outcome == UploadOutcome.DUPLICATE and again.duplicate_of == first
    assert "same file was uploaded" in again.errors[0]["reason"]
    assert HighRiskEntry.objects.count() == 1 and MatchReview.objects.count() == 1


def test_a_new_file_updates_ranks_and_keeps_patients_not_in_it(
    world: World, people: dict[str, Patient]
) -> None:
    upload(world, csv(CLEAN, TYPO))
    upload(world, csv(",Jonathan,Reyes,1990-03-15,,,,,now on dialysis"))
    _, practice_list = lists(world.partnership_a)
    active = list(practice_list.entries.filter(removed_at=None).order_by("rank"))
    assert [e.patient for e in active] == [people["jonathan"], people["lena"]]
    assert active[0].reasons == ["now on dialysis"]


def test_the_plan_resolves_a_row_and_it_joins_the_practice_list_at_its_rank(
    world: World, people: dict[str, Patient]
) -> None:
    record = upload(world, csv(CLEAN, AMBIGUOUS, TYPO))
    review = MatchReview.objects.get(upload=record)
    pm = project_manager(world)
    actions.resolve_review(actor_for(pm), review, people["santos1"].pk, "confirmed by phone")
    review.refresh_from_db()
    assert review.status == ReviewStatus.MATCHED and review.resolved_by == pm
    assert review.entry is not None and review.entry.patient == people["santos1"]
    _, practice_list = lists(world.partnership_a)
    assert [e.patient for e in practice_list.entries.order_by("rank")] == [
        people["lena"],
        people["santos1"],
        people["jonathan"],
    ]
    assert review.entry.reasons == ["insulin pump"]
    assert review.entry.added_by == world.user_a
    # The practice is told once every row of its file is settled.
    assert Notification.objects.filter(user=world.user_a, kind="match_review_done").exists()
    with pytest.raises(ConferenceError, match="already been reviewed"):
        actions.resolve_review(actor_for(pm), review, None)


def test_only_the_plan_resolves_and_only_to_one_of_its_members(
    world: World, people: dict[str, Patient]
) -> None:
    upload(world, csv(AMBIGUOUS))
    review = MatchReview.objects.get()
    with pytest.raises(PermissionDenied):
        actions.resolve_review(actor_for(world.user_a), review, people["santos1"].pk)
    with pytest.raises(ConferenceError, match="member of Plan P"):
        actions.resolve_review(actor_for(world.plan_user), review, world.patient_c.pk)
    actions.resolve_review(actor_for(world.plan_user), review, None, "not our member")
    review.refresh_from_db()
    assert review.status == ReviewStatus.NO_MATCH and review.note == "not our member"
    assert not HighRiskEntry.objects.exists()


def test_the_practice_never_sees_the_candidates(world: World, people: dict[str, Patient]) -> None:
    # Santos #2 is a plan member the practice does not have: nothing of theirs may show.
    people["santos2"].phone = "(508) 555-0199"
    people["santos2"].address = "88 Pine Road"
    people["santos2"].save()
    record = upload(world, csv(AMBIGUOUS))
    review = MatchReview.objects.get()
    practice = login(Client(), world.user_a)
    pages = [
        practice.get(f"/conference/partnerships/{world.partnership_a.pk}/reviews/"),
        practice.get(f"/conference/reviews/{review.pk}/"),
        practice.get(f"/conference/uploads/{record.pk}/"),
    ]
    for page in pages:
        assert page.status_code == 200
        body = page.content.decode()
        assert "Waiting for the plan" in body
        assert "88 Pine Road" not in body and "555-0199" not in body
        assert "Score" not in body
    refused = practice.post(f"/conference/reviews/{review.pk}/", {"patient": "none"})
    assert refused.status_code == 403

    plan = login(Client(), world.plan_user)
    queue = plan.get(f"/conference/partnerships/{world.partnership_a.pk}/reviews/").content
    assert b"88 Pine Road" in queue and b"same name" in queue


def test_the_plan_resolves_through_the_review_page(
    world: World, people: dict[str, Patient]
) -> None:
    upload(world, csv(AMBIGUOUS))
    review = MatchReview.objects.get()
    client = login(Client(), project_manager(world))
    url = f"/conference/reviews/{review.pk}/"
    page = client.get(url).content.decode()
    assert f'value="{people["santos1"].pk}"' in page and "None of them" in page
    found = client.get(url, {"q": "Okafor"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Okafor, Lena" in found and "<html" not in found
    empty = client.post(url, {})
    assert empty.status_code == 400 and "Choose a member" in empty.content.decode()
    done = client.post(url, {"patient": people["santos2"].pk, "note": "same DOB; address checked"})
    assert done.status_code == 302
    review.refresh_from_db()
    assert review.resolved_patient == people["santos2"]


def test_the_upload_page_takes_a_file_and_shows_each_rows_outcome(
    world: World, people: dict[str, Patient]
) -> None:
    client = login(Client(), world.user_a)
    url = f"/conference/partnerships/{world.partnership_a.pk}/lists/upload/"
    assert b"High-risk list CSV file" in client.get(url).content
    response = client.post(
        url, {"file": SimpleUploadedFile("top.csv", csv(CLEAN, AMBIGUOUS, ",,X,bad,,,,,"))}
    )
    record = HighRiskUpload.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/conference/uploads/{record.pk}/"
    )
    detail = client.get(response["Location"]).content.decode()
    assert "Nothing was taken" in detail and "is not a date" in detail
    response = client.post(
        url,
        {
            "file": SimpleUploadedFile("top.csv", csv(CLEAN, AMBIGUOUS, ",,X,bad,,,,,")),
            "good_rows_only": "on",
        },
    )
    detail = client.get(response["Location"]).content.decode()
    assert "Okafor, Lena" in detail and "#1 on the list" in detail
    assert (
        "Waiting for the plan&#x27;s review" in detail or "Waiting for the plan's review" in detail
    )


@pytest.mark.django_db
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=300), st.text(max_size=300).map(lambda t: (HEADER + t).encode())
    )
)
def test_any_file_is_taken_whole_or_changes_nothing(world: World, body: bytes) -> None:
    before = (HighRiskEntry.objects.count(), MatchReview.objects.count())
    record = upload(world, body)
    after = (HighRiskEntry.objects.count(), MatchReview.objects.count())
    if record.outcome == UploadOutcome.IMPORTED:
        assert not record.errors
        assert record.rows_matched + record.rows_in_review == record.rows_total
    elif record.outcome == UploadOutcome.DUPLICATE:
        assert after == before
    else:
        assert record.errors, "a rejected file must say why"
        assert after == before
