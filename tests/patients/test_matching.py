from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db.models import QuerySet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseboard.orgs.models import Organization, OrganizationKind
from caseboard.patients.matching import (
    MATCH_MARGIN,
    MATCH_THRESHOLD,
    MatchStatus,
    PersonRecord,
    birth_date_variants,
    compare_birth_dates,
    match_person,
    normalize_phone,
    normalize_street,
)
from caseboard.patients.models import IdentifierKind, Patient, PatientIdentifier
from tests import factories

BORN = datetime.date(1968, 3, 4)


@pytest.fixture
def plan(db: None) -> Organization:
    return factories.make_org(OrganizationKind.HEALTH_PLAN, "Plan M")


def person(
    plan: Organization,
    given: str,
    family: str,
    born: datetime.date = BORN,
    *,
    member_id: str | None = None,
    address: str = "12 Elm Street",
    postal_code: str = "02118",
    phone: str = "(617) 555-0142",
    sex: str = "female",
) -> Patient:
    patient = factories.make_patient(
        plan=plan, given_name=given, family_name=family, birth_date=born, member_id=member_id
    )
    patient.address, patient.postal_code, patient.phone, patient.sex = (
        address,
        postal_code,
        phone,
        sex,
    )
    patient.save()
    return patient


def members(plan: Organization) -> QuerySet[Patient]:
    return Patient.objects.filter(coverage_spans__plan=plan)


def record(given: str, family: str, born: datetime.date | None = BORN, **kw: Any) -> PersonRecord:
    return PersonRecord(given_name=given, family_name=family, birth_date=born, **kw)


def test_exact_name_and_birth_date_match_the_only_such_member(plan: Organization) -> None:
    lena = person(plan, "Lena", "Okafor")
    person(plan, "Tom", "Reyes", datetime.date(1990, 1, 1))
    result = match_person(record("Lena", "Okafor"), members(plan))
    assert result.status == MatchStatus.MATCHED
    assert result.patient == lena
    assert "same name" in result.candidates[0].reasons
    assert "same date of birth" in result.candidates[0].reasons


def test_a_typo_in_either_name_still_matches_with_the_similarity_given(
    plan: Organization,
) -> None:
    jonathan = person(plan, "Jonathan", "Reyes")
    result = match_person(record("Jonathon", "Reyez"), members(plan))
    assert result.status == MatchStatus.MATCHED and result.patient == jonathan
    reasons = result.candidates[0].reasons
    assert any(r.startswith("name similar (0.9") for r in reasons), reasons


def test_accents_case_and_hyphenated_family_names_match(plan: Organization) -> None:
    maria = person(plan, "María", "García-López")
    result = match_person(record("MARIA", "Garcia Lopez"), members(plan))
    assert result.patient == maria
    part = match_person(record("Maria", "Lopez"), members(plan))
    assert part.status == MatchStatus.MATCHED and part.patient == maria


def test_given_and_family_names_entered_the_wrong_way_round(plan: Organization) -> None:
    wei = person(plan, "Wei", "Zhang")
    result = match_person(record("Zhang", "Wei", phone="617-555-0142"), members(plan))
    assert result.patient == wei
    assert "given and family names swapped" in result.candidates[0].reasons


def test_nicknames_are_not_guessed(plan: Organization) -> None:
    person(plan, "William", "Hart")
    result = match_person(
        record("Bill", "Hart", phone="617-555-0142", address="12 Elm St", postal_code="02118"),
        members(plan),
    )
    assert result.status == MatchStatus.AMBIGUOUS, "same household and DOB: worth a review"
    assert result.patient is None
    assert any(r.startswith("given name differs") for r in result.candidates[0].reasons)


def test_twins_are_not_merged(plan: Organization) -> None:
    ana = person(plan, "Ana", "Silva")
    eva = person(plan, "Eva", "Silva")
    # Each twin's row finds that twin, not the other.
    assert match_person(record("Ana", "Silva"), members(plan)).patient == ana
    assert match_person(record("Eva", "Silva"), members(plan)).patient == eva


def test_a_twin_missing_from_the_plan_is_not_matched_to_the_other(plan: Organization) -> None:
    person(plan, "Ana", "Silva")
    result = match_person(
        record("Ava", "Silva", phone="(617) 555-0142", address="12 Elm Street"), members(plan)
    )
    assert result.status != MatchStatus.MATCHED
    assert result.patient is None


def test_same_name_and_birth_date_of_different_people_is_ambiguous(plan: Organization) -> None:
    one = person(plan, "Maria", "Santos", address="5 Oak Ave", phone="(617) 555-0101")
    two = person(plan, "Maria", "Santos", address="88 Pine Rd", phone="(508) 555-0199")
    result = match_person(record("Maria", "Santos"), members(plan))
    assert result.status == MatchStatus.AMBIGUOUS
    assert {c.patient for c in result.candidates} == {one, two}
    # A phone that agrees with one of them settles it.
    settled = match_person(record("Maria", "Santos", phone="508 555 0199"), members(plan))
    assert settled.status == MatchStatus.MATCHED and settled.patient == two
    assert "same phone" in settled.candidates[0].reasons


def test_day_and_month_swapped_in_the_birth_date(plan: Organization) -> None:
    lena = person(plan, "Lena", "Okafor", datetime.date(1984, 3, 9))
    result = match_person(record("Lena", "Okafor", datetime.date(1984, 9, 3)), members(plan))
    assert result.status == MatchStatus.MATCHED and result.patient == lena
    assert "DOB day/month swapped" in result.candidates[0].reasons


def test_birth_year_off_by_one_needs_more_than_the_name(plan: Organization) -> None:
    person(plan, "Lena", "Okafor", datetime.date(1984, 3, 9))
    alone = match_person(record("Lena", "Okafor", datetime.date(1985, 3, 9)), members(plan))
    assert alone.status == MatchStatus.AMBIGUOUS
    assert "birth year off by one" in alone.candidates[0].reasons
    with_contact = match_person(
        record(
            "Lena",
            "Okafor",
            datetime.date(1985, 3, 9),
            phone="617-555-0142",
            address="12 Elm St.",
            postal_code="02118-1234",
        ),
        members(plan),
    )
    assert with_contact.status == MatchStatus.MATCHED


def test_an_identifier_of_the_stated_issuer_wins_over_demographics(plan: Organization) -> None:
    person(plan, "Lena", "Okafor")
    married = person(plan, "Lena", "Adeyemi", member_id="M-778")
    result = match_person(
        record("Lena", "Okafor", identifiers=[(IdentifierKind.MEMBER_ID, "m-778", plan.pk)]),
        members(plan),
    )
    assert result.status == MatchStatus.MATCHED and result.patient == married
    assert result.candidates[0].reasons[0] == "same member ID"


def test_an_identifier_of_another_issuer_is_not_trusted(plan: Organization) -> None:
    other = factories.make_org(OrganizationKind.HEALTH_PLAN, "Plan N")
    lena = person(plan, "Lena", "Okafor", member_id="M-1")
    result = match_person(
        record("Tom", "Reyes", identifiers=[(IdentifierKind.MEMBER_ID, "M-1", other.pk)]),
        members(plan),
    )
    assert result.patient != lena


def test_an_identifier_shared_by_two_patients_is_ambiguous(plan: Organization) -> None:
    # A state Medicaid ID recorded by two organizations for two different people.
    practice = factories.make_org(OrganizationKind.PRACTICE, "Practice M")
    one = person(plan, "Lena", "Okafor")
    two = person(plan, "Lena", "Okafor", datetime.date(1990, 1, 1))
    for patient, recorder in ((one, plan), (two, practice)):
        PatientIdentifier.objects.create(
            patient=patient, organization=recorder, kind=IdentifierKind.MEDICAID_ID, value="MA1"
        )
    result = match_person(
        record("Lena", "Okafor", identifiers=[(IdentifierKind.MEDICAID_ID, "MA1", None)]),
        members(plan),
    )
    assert result.status == MatchStatus.AMBIGUOUS


def test_an_identifier_contradicted_by_name_and_birth_date_goes_to_review(
    plan: Organization,
) -> None:
    person(plan, "Tom", "Reyes", datetime.date(1990, 1, 1), member_id="M-9")
    result = match_person(
        record("Lena", "Okafor", identifiers=[(IdentifierKind.MEMBER_ID, "M-9", plan.pk)]),
        members(plan),
    )
    assert result.status == MatchStatus.AMBIGUOUS
    assert "but the name and date of birth do not agree" in result.candidates[0].reasons


def test_a_different_member_id_on_file_stops_an_automatic_match(plan: Organization) -> None:
    person(plan, "Lena", "Okafor", member_id="M-1")
    result = match_person(
        record("Lena", "Okafor", identifiers=[(IdentifierKind.MEMBER_ID, "M-2", plan.pk)]),
        members(plan),
    )
    assert result.status == MatchStatus.AMBIGUOUS
    assert "different member ID" in result.candidates[0].reasons


def test_nobody_close_is_unmatched(plan: Organization) -> None:
    person(plan, "Lena", "Okafor")
    result = match_person(record("Tom", "Reyes", datetime.date(1990, 1, 1)), members(plan))
    assert result.status == MatchStatus.UNMATCHED
    assert result.candidates == []


def test_only_candidates_in_the_given_set_are_considered(plan: Organization) -> None:
    other = factories.make_org(OrganizationKind.HEALTH_PLAN, "Plan N")
    person(other, "Lena", "Okafor")
    assert match_person(record("Lena", "Okafor"), members(plan)).status == MatchStatus.UNMATCHED


def test_without_a_birth_date_a_name_alone_never_matches(plan: Organization) -> None:
    person(plan, "Lena", "Okafor")
    result = match_person(record("Lena", "Okafor", None, phone="617-555-0142"), members(plan))
    assert result.status == MatchStatus.AMBIGUOUS


def test_normalization_of_phones_streets_and_birth_dates() -> None:
    assert normalize_phone("(617) 555-0142") == normalize_phone("617.555.0142") == "+16175550142"
    assert normalize_phone("12") == ""
    assert normalize_street("12 Elm Street, Apartment 3") == normalize_street("12 elm st apt 3")
    assert datetime.date(1984, 9, 3) in birth_date_variants(datetime.date(1984, 3, 9))
    assert birth_date_variants(datetime.date(1980, 2, 29)) == [datetime.date(1980, 2, 29)]
    assert compare_birth_dates(datetime.date(1984, 3, 9), datetime.date(1984, 3, 8))[1] == (
        "DOB one digit different"
    )


names = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
dates = st.one_of(st.none(), st.dates(datetime.date(1900, 1, 1), datetime.date(2030, 12, 31)))


@pytest.mark.django_db
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    given_name=st.one_of(names, st.sampled_from(["Ana", "Eva", "Maria", "Lena", "Jonathon"])),
    family_name=st.one_of(names, st.sampled_from(["Silva", "Santos", "Okafor", "Reyes"])),
    born=st.one_of(dates, st.sampled_from([BORN, datetime.date(1968, 4, 3)])),
    phone=st.one_of(names, st.just("617-555-0142")),
    address=names,
    postal_code=st.one_of(names, st.just("02118")),
    member_id=st.one_of(st.just(""), st.sampled_from(["M-1", "M-2", "m-1"]), names),
)
def test_matching_never_raises_and_never_matches_a_near_tie(
    plan: Organization,
    given_name: str,
    family_name: str,
    born: datetime.date | None,
    phone: str,
    address: str,
    postal_code: str,
    member_id: str,
) -> None:
    if not Patient.objects.exists():
        person(plan, "Ana", "Silva", member_id="M-1")
        person(plan, "Eva", "Silva", member_id="M-2")
        person(plan, "Maria", "Santos", address="5 Oak Ave")
        person(plan, "Maria", "Santos", address="88 Pine Rd", phone="(508) 555-0199")
        person(plan, "Jonathan", "Reyes", datetime.date(1968, 4, 3))
    result = match_person(
        PersonRecord(
            given_name=given_name,
            family_name=family_name,
            birth_date=born,
            identifiers=[(IdentifierKind.MEMBER_ID, member_id, plan.pk)] if member_id else [],
            phone=phone,
            address=address,
            postal_code=postal_code,
        ),
        Patient.objects.filter(coverage_spans__plan=plan),
    )
    scores = [c.score for c in result.candidates]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    if result.status == MatchStatus.MATCHED:
        assert result.patient is not None
        assert result.candidates[0].patient == result.patient
        assert scores[0] >= MATCH_THRESHOLD
        if len(scores) > 1:
            assert scores[0] - scores[1] >= MATCH_MARGIN
    else:
        assert result.patient is None
        if result.status == MatchStatus.UNMATCHED:
            assert not result.candidates
