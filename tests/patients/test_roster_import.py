from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from caseboard.patients.actions import import_roster
from caseboard.patients.models import (
    AttributionSpan,
    IdentifierKind,
    Patient,
    PatientIdentifier,
    RosterImport,
)
from caseboard.patients.roster import parse_roster
from tests import factories
from tests.conftest import World, login

HEADER = (
    "mrn,first_name,last_name,birth_date,sex,phone,state,"
    "postal_code,pcp_npi,last_seen_on,member_id\n"
)
TODAY = datetime.date(2026, 11, 23)


def roster(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


GOOD = "R-1,Lena,Okafor,1984-03-09,F,617-555-0134,MA,02118,1234567893,2026-05-01,"
GOOD2 = "R-2,Tom,Reyes,03/15/1990,M,(508) 555-0101,MA,01801,,,"


def test_good_roster_creates_patients_with_mrn_and_attribution(world: World) -> None:
    pcp = factories.make_provider(world.practice_a)
    record = import_roster(factories.actor_for(world.user_a), "r.csv", roster(GOOD, GOOD2))
    assert record.outcome == RosterImport.Outcome.IMPORTED
    assert record.patients_created == 2
    lena = Patient.objects.get(given_name="Lena")
    assert lena.identifiers.get(kind=IdentifierKind.MRN).value == "R-1"
    span = AttributionSpan.objects.get(patient=lena, organization=world.practice_a)
    assert span.pcp == pcp and span.last_seen_on == datetime.date(2026, 5, 1)
    assert lena.phone == "(617) 555-0134"
    assert Patient.objects.get(given_name="Tom").birth_date == datetime.date(1990, 3, 15)


def test_every_bad_row_and_field_is_reported_and_nothing_is_saved(world: World) -> None:
    before = Patient.objects.count()
    data = roster(
        GOOD,
        "R-2,,Reyes,2031-04-01,X,12345,ZZ,1234,1234567890,someday,",
        "R-1,Ann,Lee,1980-01-02,F,,,,,,",
    )
    record = import_roster(factories.actor_for(world.user_a), "bad.csv", data)
    assert record.outcome == RosterImport.Outcome.REJECTED
    assert Patient.objects.count() == before
    found = {(e["row"], e["field"]): e["reason"] for e in record.errors}
    assert found[(3, "first_name")] == "is required"
    assert found[(3, "birth_date")] == "2031-04-01 is in the future"
    assert "female, male" in found[(3, "sex")]
    assert "not a valid telephone number" in found[(3, "phone")]
    assert "not a US state" in found[(3, "state")]
    assert "ZIP code" in found[(3, "postal_code")]
    assert "not a valid NPI" in found[(3, "pcp_npi")]
    assert "not a date" in found[(3, "last_seen_on")]
    assert found[(4, "mrn")] == "repeats the MRN of row 2"
    assert bytes(record.content) == data  # the file is kept whole, even when rejected


def test_good_rows_only_imports_the_good_and_lists_the_bad(world: World) -> None:
    data = roster(GOOD, "R-9,Sam,Ito,not-a-date,,,,,,,")
    record = import_roster(
        factories.actor_for(world.user_a), "mixed.csv", data, good_rows_only=True
    )
    assert record.outcome == RosterImport.Outcome.PARTLY_IMPORTED
    assert record.patients_created == 1
    assert [(e["row"], e["field"]) for e in record.errors] == [(3, "birth_date")]
    assert not Patient.objects.filter(given_name="Sam").exists()


def test_missing_and_unknown_columns_are_named(world: World) -> None:
    record = import_roster(
        factories.actor_for(world.user_a), "cols.csv", b"mrn,first_name,surname\nR1,A,B\n"
    )
    fields = {e["field"]: e["reason"] for e in record.errors}
    assert fields["last_name"] == "required column is missing"
    assert fields["birth_date"] == "required column is missing"
    assert fields["surname"].startswith("unknown column")


def test_roster_row_links_to_the_plan_member_by_name_and_birth_date(world: World) -> None:
    member = factories.make_patient(
        plan=world.plan,
        given_name="Lena",
        family_name="Okafor",
        birth_date=datetime.date(1984, 3, 9),
    )
    record = import_roster(factories.actor_for(world.user_a), "r.csv", roster(GOOD))
    assert record.patients_updated == 1 and record.patients_created == 0
    assert (
        PatientIdentifier.objects.get(organization=world.practice_a, value="R-1").patient == member
    )


def test_ambiguous_name_and_birth_date_is_not_guessed(world: World) -> None:
    for _ in range(2):
        factories.make_patient(
            plan=world.plan,
            given_name="Lena",
            family_name="Okafor",
            birth_date=datetime.date(1984, 3, 9),
        )
    record = import_roster(factories.actor_for(world.user_a), "r.csv", roster(GOOD))
    assert record.outcome == RosterImport.Outcome.REJECTED
    assert "add the member ID" in record.errors[0]["reason"]


def test_same_file_twice_changes_nothing_the_second_time(world: World) -> None:
    actor = factories.actor_for(world.user_a)
    import_roster(actor, "r.csv", roster(GOOD))
    again = import_roster(actor, "r.csv", roster(GOOD))
    assert again.outcome == RosterImport.Outcome.DUPLICATE
    assert Patient.objects.filter(given_name="Lena").count() == 1


def test_plan_users_cannot_import_a_roster(world: World) -> None:
    client = login(Client(), world.plan_user)
    upload = SimpleUploadedFile("r.csv", roster(GOOD), content_type="text/csv")
    assert client.post("/patients/roster/", {"file": upload}).status_code == 403


def test_upload_page_shows_the_errors_and_offers_them_as_csv(world: World) -> None:
    client = login(Client(), world.user_a)
    upload = SimpleUploadedFile("r.csv", roster("R-1,Ann,Lee,1980-02-30,F,,,,,,"))
    response = client.post("/patients/roster/", {"file": upload}, follow=True)
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "is not a date" in page
    record = RosterImport.objects.get()
    download = client.get(f"/patients/roster/{record.pk}/bad-rows.csv")
    assert download["Content-Type"] == "text/csv"
    assert download.content.decode().splitlines()[1].startswith("2,birth_date,1980-02-30,")


def test_non_utf8_file_gets_a_clear_error() -> None:
    parsed = parse_roster("mrn,first_name\nR1,Zoë\n".encode("utf-16"), TODAY)
    assert "not UTF-8" in parsed.errors[0].reason


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=400), st.text(max_size=400).map(lambda t: (HEADER + t).encode())
    )
)
# NUL bytes cannot be stored in PostgreSQL text: found by this test, kept as explicit cases.
@example(body=b"mrn,first_name,last_name,birth_date\nR\x001,A,B,1980-01-01\n")
@example(body=b"mrn,first_\x00name\n")
def test_any_input_loads_whole_or_changes_nothing(world: World, body: bytes) -> None:
    before = Patient.objects.count()
    record = import_roster(factories.actor_for(world.user_a), "fuzz.csv", body)
    after = Patient.objects.count()
    if record.outcome == RosterImport.Outcome.IMPORTED:
        assert not record.errors
        assert after - before == record.patients_created
    else:
        assert record.errors, "a rejected file must say why"
        assert after == before
