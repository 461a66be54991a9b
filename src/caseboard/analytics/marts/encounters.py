"""Encounters built from claim lines: inpatient stays, ED visits, observation stays, office visits.

Definitions (documented in docs/analytics/marts.md):
- inpatient stay: institutional claims with a type-of-bill starting 11 (hospital inpatient)
  for one person, merged when they overlap or are adjacent (the next admission on or the day
  after the previous discharge: interim bills and transfers are one stay);
- ED visit: a day with an institutional line on revenue centre 0450–0459 or 0981, or a
  professional line with place of service 23 or CPT 99281–99285; an ED visit on the day of,
  or the day before, an admission is part of that stay (it led to the admission);
- observation stay: revenue centre 0762 or HCPCS G0378, not part of an inpatient stay;
- office visit: professional E/M CPT 99202–99215 (new and established outpatient visits).
"""

from __future__ import annotations

import ibis
from ibis import _

ED_REVENUE = [f"045{d}" for d in range(10)] + ["0981"]
ED_CPT = [f"9928{d}" for d in range(1, 6)]
OFFICE_CPT = [f"9920{d}" for d in range(2, 6)] + [f"992{d}" for d in range(11, 16)]
OBSERVATION_REVENUE = ["0762"]
OBSERVATION_HCPCS = ["G0378"]

ENCOUNTER_COLUMNS = (
    "person_id",
    "encounter_id",
    "encounter_type",
    "start_date",
    "end_date",
    "facility_npi",
    "primary_diagnosis_code",
    "drg_code",
    "discharge_disposition_code",
    "paid_amount",
)


def _lines(medical_claim: ibis.Table) -> ibis.Table:
    mc = medical_claim
    return mc.mutate(
        start=ibis.coalesce(mc.admission_date, mc.claim_line_start_date, mc.claim_start_date).cast(
            "date"
        ),
        end=ibis.coalesce(mc.discharge_date, mc.claim_line_end_date, mc.claim_end_date).cast(
            "date"
        ),
        bill2=mc.bill_type_code.cast("string").lpad(3, "0").left(2),
        paid=ibis.coalesce(mc.paid_amount.cast("float64"), 0.0),
    )


def inpatient_stays(medical_claim: ibis.Table) -> ibis.Table:
    lines = _lines(medical_claim)
    claims = (
        lines.filter((_.claim_type == "institutional") & (_.bill2 == "11"))
        .group_by(["person_id", "claim_id"])
        .aggregate(
            start=_.start.min(),
            end=_.end.max(),
            facility_npi=_.facility_npi.max(),
            primary_diagnosis_code=_.diagnosis_code_1.max(),
            drg_code=_.drg_code.max(),
            discharge_disposition_code=_.discharge_disposition_code.max(),
            paid=_.paid.sum(),
        )
    )
    # Gaps and islands: a claim starts a new stay unless it begins on or before the day after
    # the latest discharge seen so far for that person.
    ordered = ibis.window(group_by="person_id", order_by=["start", "end", "claim_id"])
    running = ibis.window(
        group_by="person_id", order_by=["start", "end", "claim_id"], preceding=None, following=0
    )
    marked = claims.mutate(running_end=claims.end.max().over(running))
    marked = marked.mutate(latest_end=marked.running_end.lag().over(ordered))
    marked = marked.mutate(
        new_stay=ibis.ifelse(
            marked.latest_end.isnull() | (marked.start > marked.latest_end + ibis.interval(days=1)),
            1,
            0,
        )
    )
    numbered = marked.mutate(stay_number=marked.new_stay.sum().over(running))
    # The last claim of the stay carries its discharge disposition.
    last_first = ibis.window(group_by=["person_id", "stay_number"], order_by=[ibis.desc("end")])
    numbered = numbered.mutate(_last=ibis.row_number().over(last_first))
    stays = numbered.group_by(["person_id", "stay_number"]).aggregate(
        start_date=numbered.start.min(),
        end_date=numbered.end.max(),
        facility_npi=numbered.facility_npi.max(),
        primary_diagnosis_code=numbered.primary_diagnosis_code.first(where=numbered._last == 0),
        drg_code=numbered.drg_code.first(where=numbered._last == 0),
        discharge_disposition_code=numbered.discharge_disposition_code.first(
            where=numbered._last == 0
        ),
        paid_amount=numbered.paid.sum(),
    )
    return stays.mutate(
        encounter_type=ibis.literal("inpatient"),
        encounter_id=ibis.literal("IP-") + stays.person_id + "-" + stays.stay_number.cast("string"),
    ).select(*ENCOUNTER_COLUMNS)


def _day_visits(lines: ibis.Table, kind: str, flag: ibis.BooleanValue) -> ibis.Table:
    days = (
        lines.filter(flag)
        .group_by(["person_id", lines.start.name("start_date")])
        .aggregate(
            facility_npi=lines.facility_npi.max(),
            primary_diagnosis_code=lines.diagnosis_code_1.first(),
            paid_amount=lines.paid.sum(),
        )
    )
    return days.mutate(
        encounter_type=ibis.literal(kind),
        end_date=days.start_date,
        drg_code=ibis.null("string"),
        discharge_disposition_code=ibis.null("string"),
        encounter_id=ibis.literal(kind.upper()[:2] + "-")
        + days.person_id
        + "-"
        + days.start_date.strftime("%Y%m%d"),
    ).select(*ENCOUNTER_COLUMNS)


def _outside_stays(visits: ibis.Table, stays: ibis.Table) -> ibis.Table:
    """Visits that do not fall inside (or on the day before) an inpatient stay."""
    s = stays.select(s_person=stays.person_id, s_start=stays.start_date, s_end=stays.end_date)
    inside = visits.join(
        s,
        [
            visits.person_id == s.s_person,
            visits.start_date >= s.s_start - ibis.interval(days=1),
            visits.start_date <= s.s_end,
        ],
    ).select("encounter_id")
    return visits.anti_join(inside, "encounter_id")


def encounters(medical_claim: ibis.Table) -> ibis.Table:
    lines = _lines(medical_claim)
    stays = inpatient_stays(medical_claim)
    ed_flag = (
        (lines.claim_type == "institutional") & lines.revenue_center_code.isin(ED_REVENUE)
    ) | (
        (lines.claim_type == "professional")
        & ((lines.place_of_service_code == "23") | lines.hcpcs_code.isin(ED_CPT))
    )
    obs_flag = lines.revenue_center_code.isin(OBSERVATION_REVENUE) | lines.hcpcs_code.isin(
        OBSERVATION_HCPCS
    )
    office_flag = (lines.claim_type == "professional") & lines.hcpcs_code.isin(OFFICE_CPT)
    ed = _outside_stays(_day_visits(lines, "ed", ed_flag), stays)
    observation = _outside_stays(_day_visits(lines, "observation", obs_flag), stays)
    office = _day_visits(lines, "office_visit", office_flag)
    return ibis.union(stays, ed, observation, office)
