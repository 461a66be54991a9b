"""Writes to patient records, each checked by the access policy and audited."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from caseboard.access import Actor, sharing_organization_ids
from caseboard.audit import log
from caseboard.audit.models import AuditAction
from caseboard.orgs.models import OrganizationKind
from caseboard.patients.models import (
    AttributionSpan,
    IdentifierKind,
    Patient,
    PatientIdentifier,
    Provider,
    RosterImport,
)
from caseboard.patients.roster import RosterError, RosterRow, parse_roster

ROSTER_ORGANIZATIONS = (OrganizationKind.PRACTICE, OrganizationKind.CBCME)


@dataclass
class _Match:
    patient: Patient | None
    error: RosterError | None = None


def _match_row(actor: Actor, row: RosterRow) -> _Match:
    """Find the person this roster row speaks of, or say why it cannot be told.

    First by this organization's own MRN, then by a partner plan's member ID, then by exact
    name and date of birth among partner plans' members. A name and DOB shared by several
    members is not guessed at: the row asks for the member ID instead.
    """
    org = actor.organization
    by_mrn = PatientIdentifier.objects.filter(
        organization=org, kind=IdentifierKind.MRN, value=row.mrn
    ).first()
    if by_mrn is not None:
        return _Match(by_mrn.patient)
    partner_plans = sharing_organization_ids(actor) - {org.pk}
    if row.member_id:
        by_member = PatientIdentifier.objects.filter(
            organization_id__in=partner_plans, kind=IdentifierKind.MEMBER_ID, value=row.member_id
        ).first()
        if by_member is None:
            return _Match(
                None,
                RosterError(
                    row.row, "member_id", row.member_id, "is not a member of a partner plan"
                ),
            )
        return _Match(by_member.patient)
    candidates = list(
        Patient.objects.filter(
            Q(family_name__iexact=row.last_name) & Q(given_name__iexact=row.first_name),
            birth_date=row.birth_date,
            coverage_spans__plan_id__in=partner_plans,
        ).distinct()[:2]
    )
    if len(candidates) > 1:
        return _Match(
            None,
            RosterError(
                row.row,
                "member_id",
                "",
                "several plan members share this name and date of birth; add the member ID",
            ),
        )
    return _Match(candidates[0] if candidates else None)


def _apply_row(actor: Actor, row: RosterRow, patient: Patient | None) -> tuple[Patient, bool]:
    org = actor.organization
    today = timezone.localdate()
    created = patient is None
    if patient is None:
        patient = Patient(
            given_name=row.first_name, family_name=row.last_name, birth_date=row.birth_date
        )
    # The practice's roster is its current knowledge of contact details: it wins where given.
    for name in ("sex", "address", "city", "state", "postal_code", "phone", "email"):
        value = getattr(row, name)
        if value:
            setattr(patient, name, value)
    if row.primary_language:
        patient.primary_language = row.primary_language
    patient.save()
    PatientIdentifier.objects.get_or_create(
        organization=org, kind=IdentifierKind.MRN, value=row.mrn, defaults={"patient": patient}
    )
    pcp = Provider.objects.filter(npi=row.pcp_npi).first() if row.pcp_npi else None
    span = (
        AttributionSpan.objects.filter(patient=patient, organization=org)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .first()
    )
    if span is None:
        span = AttributionSpan(patient=patient, organization=org, start_date=today)
    if pcp is not None:
        span.pcp = pcp
    if row.last_seen_on is not None:
        span.last_seen_on = row.last_seen_on
    span.save()
    return patient, created


def import_roster(
    actor: Actor, file_name: str, data: bytes, *, good_rows_only: bool = False
) -> RosterImport:
    """Import a practice's roster. Any bad row rejects the file unless `good_rows_only`."""
    if actor.organization.kind not in ROSTER_ORGANIZATIONS:
        raise PermissionDenied("Only practices and CB-CMEs keep a patient roster.")
    if not actor.can_edit_patients:
        raise PermissionDenied("Your role may not change patient records.")
    digest = hashlib.sha256(data).hexdigest()
    mode = RosterImport.Mode.GOOD_ROWS if good_rows_only else RosterImport.Mode.ALL_OR_NOTHING
    record = RosterImport(
        organization=actor.organization,
        uploaded_by=actor.user,
        file_name=file_name.replace("\x00", "")[:255],
        sha256=digest,
        content=data,
        mode=mode,
    )
    already = RosterImport.objects.filter(
        organization=actor.organization,
        sha256=digest,
        outcome__in=[RosterImport.Outcome.IMPORTED, RosterImport.Outcome.PARTLY_IMPORTED],
    ).first()
    if already is not None:
        record.outcome = RosterImport.Outcome.DUPLICATE
        record.errors = [
            {
                "row": 0,
                "field": "file",
                "value": "",
                "reason": f"the same file was imported on {already.uploaded_at:%Y-%m-%d %H:%M}",
            }
        ]
        record.save()
        return record

    parsed = parse_roster(data, timezone.localdate())
    errors = list(parsed.errors)
    matches: list[tuple[RosterRow, Patient | None]] = []
    for row in parsed.rows:
        match = _match_row(actor, row)
        if match.error is not None:
            errors.append(match.error)
        else:
            matches.append((row, match.patient))
    record.rows_total = parsed.rows_total
    record.errors = [e.as_record() for e in sorted(errors, key=lambda e: (e.row, e.field))]
    if errors and not (good_rows_only and matches):
        record.outcome = RosterImport.Outcome.REJECTED
        record.save()
        return record

    with transaction.atomic():
        touched: list[int] = []
        for row, patient in matches:
            saved, created = _apply_row(actor, row, patient)
            touched.append(saved.pk)
            if created:
                record.patients_created += 1
            else:
                record.patients_updated += 1
        record.outcome = (
            RosterImport.Outcome.PARTLY_IMPORTED if errors else RosterImport.Outcome.IMPORTED
        )
        record.save()
        log.record_many(
            actor, AuditAction.IMPORT, touched, {"roster_import": record.pk, "file": file_name}
        )
    return record
