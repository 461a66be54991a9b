from __future__ import annotations

import datetime

from ninja import Schema


class IdentifierOut(Schema):
    organization: str
    kind: str
    value: str


class CoverageOut(Schema):
    plan: str
    product: str
    medicaid_coverage_level: str
    start_date: datetime.date
    end_date: datetime.date | None
    next_insurer: str


class AttributionOut(Schema):
    organization: str
    pcp: str | None
    pcp_npi: str | None
    start_date: datetime.date
    end_date: datetime.date | None
    last_seen_on: datetime.date | None


class PatientSummaryOut(Schema):
    id: int
    given_name: str
    family_name: str
    birth_date: datetime.date
    sex: str


class PatientOut(PatientSummaryOut):
    address: str
    city: str
    state: str
    postal_code: str
    phone: str
    email: str
    primary_language: str
    social_needs: list[str]
    identifiers: list[IdentifierOut]
    coverage: list[CoverageOut]
    attribution: list[AttributionOut]


class OrganizationOut(Schema):
    id: int
    name: str
    kind: str


class PartnershipOut(Schema):
    id: int
    plan: OrganizationOut
    partner: OrganizationOut
    started_on: datetime.date


class DirectoryEntryOut(Schema):
    name: str
    organization: str
    role: str
    position: str
    email: str
    phone: str


class MeOut(Schema):
    username: str
    active_organization: OrganizationOut
    role: str
    organizations: list[OrganizationOut]
