"""Loads a generated population's operational records into the app: organizations, the
partnerships, demo users (one per role and organization), patients, coverage and attribution.

The claims stay in Parquet for the analytics engine; the app never reads them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.contrib.auth.models import User
from django.db import transaction

from caseboard.demo.population import Population
from caseboard.orgs.models import Membership, Organization, OrganizationKind, Partnership, Role
from caseboard.patients.models import (
    AttributionSpan,
    CoverageSpan,
    IdentifierKind,
    Patient,
    PatientIdentifier,
    Provider,
)

DEMO_PASSWORD = "caseboard-demo-2026"  # noqa: S105 — printed for the demo on purpose
BATCH = 5000
SOCIAL_NEEDS = {
    "housing_instability": "Housing instability",
    "food_insecurity": "Food insecurity",
    "transportation_need": "Transportation",
    "utility_need": "Utilities",
    "interpersonal_safety": "Interpersonal safety",
}
CBO_NAME = "Merrimack Valley Food & Housing Collaborative"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    organization: str
    role: str


class DemoAlreadyLoaded(Exception):
    pass


def _user(username: str, first: str, last: str, email_domain: str) -> User:
    user = User(
        username=username,
        first_name=first,
        last_name=last,
        email=f"{username}@{email_domain}",
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


# (username, first, last, role, position, administers) per organization, by seed 004 / 003 roles.
PLAN_STAFF = [
    (
        "plan.director",
        "Dana",
        "Whitfield",
        Role.DIRECTOR_OF_CARE_MANAGEMENT,
        "Director of Care Management",
        True,
    ),
    ("plan.pm", "Marcus", "Oyelaran", Role.PROJECT_MANAGER, "Project Manager, PCMH program", False),
    ("plan.cm", "Lucia", "Ferreira", Role.CASE_MANAGER, "RN Case Manager", False),
    ("plan.social", "Tamika", "Greene", Role.SOCIAL_CARE_MANAGER, "Social Care Manager", False),
    ("plan.md", "Robert", "Chen", Role.MEDICAL_DIRECTOR, "Medical Director", False),
    ("plan.admin", "Iris", "Novak", Role.ORG_ADMIN, "IT administrator", True),
]
PRACTICE_STAFF = [
    ("rn", "Clinical Care Manager", Role.CLINICAL_CARE_MANAGER, False),
    ("pcp", "Primary Care Physician", Role.PCP, False),
    ("coord", "Care Coordinator", Role.CARE_COORDINATOR, False),
    ("chw", "Community Health Worker", Role.COMMUNITY_HEALTH_WORKER, False),
    ("bh", "Behavioral Health Clinician", Role.BEHAVIORAL_HEALTH_PROVIDER, False),
    ("pharm", "Clinical Pharmacist", Role.CLINICAL_PHARMACIST, False),
    ("admin", "Practice Manager", Role.ORG_ADMIN, True),
]
CBCME_STAFF = [
    ("hh.director", "Renee", "Baptiste", Role.HHP_DIRECTOR, "HHP Director", True),
    ("hh.coord", "Samuel", "Nguyen", Role.DEDICATED_CARE_COORDINATOR, "Care Coordinator", False),
    ("hh.consult", "Priya", "Raman", Role.CLINICAL_CONSULTANT, "Clinical Consultant (RN)", False),
    ("hh.housing", "Jorge", "Almeida", Role.HOUSING_NAVIGATOR, "Housing Navigator", False),
    ("hh.lcsw", "Grace", "O'Neill", Role.LCSW, "Licensed Clinical Social Worker", False),
    ("hh.advocate", "Ana", "Soto", Role.MEMBER_ADVOCATE, "Member Advocate", False),
]
PRACTICE_NAMES = [
    ("Ada", "Morales"),
    ("Ben", "Kowalski"),
    ("Chloe", "Mensah"),
    ("David", "Leblanc"),
    ("Elena", "Park"),
    ("Femi", "Adeyemi"),
    ("Gwen", "Duarte"),
]


def _date(value: object) -> datetime.date | None:
    return value if isinstance(value, datetime.date) else None


def _rows(frame: pl.DataFrame) -> Iterable[dict[str, Any]]:
    return frame.iter_rows(named=True)


@transaction.atomic
def load_population(population: Population, *, staffed_practices: int = 2) -> list[DemoLogin]:
    tables = population.tables
    payer = str(tables["eligibility"]["payer"][0])
    if Organization.objects.filter(name=payer).exists():
        raise DemoAlreadyLoaded(f"{payer} is already in this database; start from an empty one.")
    plan = Organization.objects.create(
        kind=OrganizationKind.HEALTH_PLAN,
        name=payer,
        external_id="PLAN",
        city="Boston",
        state="MA",
        phone="(617) 555-0100",
    )
    orgs: dict[str, Organization] = {}
    for row in _rows(tables["practices"]):
        orgs[str(row["practice_id"])] = Organization.objects.create(
            kind=OrganizationKind.CBCME if row["kind"] == "cbcme" else OrganizationKind.PRACTICE,
            name=str(row["name"]),
            external_id=str(row["practice_id"]),
            npi=str(row["npi"]),
            address=str(row["address"]),
            city=str(row["city"]),
            state=str(row["state"]),
            postal_code=str(row["zip_code"]),
            phone=str(row["phone"]),
        )
    start = population.as_of.replace(year=population.as_of.year - 3)
    Partnership.objects.bulk_create(
        Partnership(plan=plan, partner=org, started_on=start) for org in orgs.values()
    )
    Organization.objects.create(
        kind=OrganizationKind.CBO, name=CBO_NAME, city="Lawrence", state="MA", external_id="CBO1"
    )
    providers = Provider.objects.bulk_create(
        Provider(
            npi=str(row["npi"]),
            # The display name without the credential, which the app shows beside it.
            name=f"{row['first_name']} {row['last_name']}"
            if row["first_name"]
            else str(row["name"]),
            credential=str(row["credential"] or ""),
            specialty=str(row["specialty"] or ""),
            organization=orgs.get(str(row["practice_id"])) if row["practice_id"] else None,
        )
        for row in _rows(tables["providers"])
    )
    provider_by_npi = {p.npi: p for p in providers}
    _load_patients(population, plan, orgs, provider_by_npi)
    return _create_staff(plan, orgs, staffed_practices)


def _load_patients(
    population: Population,
    plan: Organization,
    orgs: dict[str, Organization],
    provider_by_npi: dict[str, Provider],
) -> None:
    tables = population.tables
    members = tables["members"]
    patients = Patient.objects.bulk_create(
        (
            Patient(
                given_name=str(m["first_name"]),
                family_name=str(m["last_name"]),
                birth_date=m["birth_date"],
                sex=str(m["sex"]),
                address=str(m["address"] or ""),
                city=str(m["city"] or ""),
                state=str(m["state"] or ""),
                postal_code=str(m["zip_code"] or ""),
                phone=str(m["phone"] or ""),
                email=str(m["email"] or ""),
                primary_language=str(m["primary_language"] or ""),
                social_needs=[label for col, label in SOCIAL_NEEDS.items() if m[col]],
            )
            for m in _rows(members)
        ),
        batch_size=BATCH,
    )
    by_person = {str(m["person_id"]): p for m, p in zip(_rows(members), patients, strict=True)}
    # The MRN was issued by the latest practice, even when that attribution has since ended.
    latest_practice = {
        str(a["person_id"]): str(a["practice_id"])
        for a in _rows(tables["attribution"].sort("start_date"))
    }
    identifiers: list[PatientIdentifier] = []
    for m in _rows(members):
        patient = by_person[str(m["person_id"])]
        identifiers.append(
            PatientIdentifier(
                patient=patient,
                organization=plan,
                kind=IdentifierKind.MEMBER_ID,
                value=str(m["member_id"]),
            )
        )
        practice = orgs.get(latest_practice.get(str(m["person_id"]), ""))
        if practice is not None and m["mrn"]:
            identifiers.append(
                PatientIdentifier(
                    patient=patient,
                    organization=practice,
                    kind=IdentifierKind.MRN,
                    value=str(m["mrn"]),
                )
            )
    PatientIdentifier.objects.bulk_create(identifiers, batch_size=BATCH)

    level = {str(m["person_id"]): str(m["medicaid_coverage_level"] or "") for m in _rows(members)}
    CoverageSpan.objects.bulk_create(
        (
            CoverageSpan(
                patient=by_person[str(e["person_id"])],
                plan=plan,
                product=str(e["plan"] or ""),
                medicaid_coverage_level=level[str(e["person_id"])],
                start_date=e["enrollment_start_date"],
                end_date=_open_end(e["enrollment_end_date"], population.as_of),
            )
            for e in _rows(tables["eligibility"])
        ),
        batch_size=BATCH,
    )
    last_seen = {str(m["person_id"]): _date(m["last_seen_date"]) for m in _rows(members)}
    spans = [
        AttributionSpan(
            patient=by_person[str(a["person_id"])],
            organization=orgs[str(a["practice_id"])],
            pcp=provider_by_npi.get(str(a["pcp_npi"])),
            start_date=a["start_date"],
            end_date=a["end_date"],
            last_seen_on=last_seen[str(a["person_id"])] if a["end_date"] is None else None,
        )
        for a in _rows(tables["attribution"])
    ]
    first_enrolled = {
        str(r["person_id"]): r["start"]
        for r in _rows(
            tables["eligibility"]
            .group_by("person_id")
            .agg(pl.col("enrollment_start_date").min().alias("start"))
        )
    }
    for m in _rows(members.filter(pl.col("health_home_id").is_not_null())):
        person = str(m["person_id"])
        spans.append(
            AttributionSpan(
                patient=by_person[person],
                organization=orgs[str(m["health_home_id"])],
                start_date=first_enrolled[person],
            )
        )
    AttributionSpan.objects.bulk_create(spans, batch_size=BATCH)


def _open_end(end: object, as_of: datetime.date) -> datetime.date | None:
    """Coverage that runs through the generation date is open-ended in the app."""
    day = _date(end)
    return None if day is None or day >= as_of else day


def _create_staff(
    plan: Organization, orgs: dict[str, Organization], staffed_practices: int
) -> list[DemoLogin]:
    logins: list[DemoLogin] = []

    def add(user: User, org: Organization, role: Role, position: str, admin: bool) -> None:
        Membership.objects.create(
            user=user,
            organization=org,
            role=role,
            position=position,
            phone=org.phone,
            administers=admin,
        )
        logins.append(DemoLogin(user.username, org.name, role.label))

    for username, first, last, role, position, admin in PLAN_STAFF:
        add(_user(username, first, last, "plan.example.org"), plan, role, position, admin)
    practices = [o for o in orgs.values() if o.kind == OrganizationKind.PRACTICE]
    for n, practice in enumerate(practices[:staffed_practices], start=1):
        for (suffix, position, role, admin), (first, last) in zip(
            PRACTICE_STAFF, PRACTICE_NAMES, strict=True
        ):
            name = f"p{n}.{suffix}"
            user = _user(
                name,
                first if n == 1 else last,
                last if n == 1 else first,
                f"practice{n}.example.org",
            )
            add(user, practice, role, position, admin)
    cbcme = next(o for o in orgs.values() if o.kind == OrganizationKind.CBCME)
    for username, first, last, role, position, admin in CBCME_STAFF:
        add(_user(username, first, last, "healthhome.example.org"), cbcme, role, position, admin)
    # A practice facilitator coaches several practices (seed 000): one login, many organizations.
    facilitator = _user("facilitator", "Hannah", "Lindqvist", "qi.example.org")
    for practice in practices[:staffed_practices]:
        add(facilitator, practice, Role.PRACTICE_FACILITATOR, "Practice Facilitator", False)
    cbo = Organization.objects.get(name=CBO_NAME)
    add(
        _user("cbo.intake", "Walter", "Jones", "cbo.example.org"),
        cbo,
        Role.ORG_ADMIN,
        "Intake Coordinator",
        True,
    )
    return logins
