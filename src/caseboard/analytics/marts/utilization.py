"""Utilization per 1,000 member-years by calendar year: admissions, ED visits, readmissions.

30-day all-cause readmission (documented in docs/analytics/marts.md): an index stay is an
inpatient stay whose discharge disposition is not death (20) and not left against medical
advice (07); it is readmitted when another stay of the same person starts 1–30 days after its
discharge. Transfers and same-day readmissions are already one stay (see encounters). The CMS
planned-readmission algorithm is not applied, so rates run slightly above CMS's measure.
"""

from __future__ import annotations

import ibis
from ibis import _

NOT_INDEX_DISPOSITIONS = ["20", "07"]


def readmissions(stays: ibis.Table) -> ibis.Table:
    """One row per index stay: person_id, encounter_id, end_date, readmitted (bool)."""
    index = stays.filter(
        stays.discharge_disposition_code.isnull()
        | ~stays.discharge_disposition_code.isin(NOT_INDEX_DISPOSITIONS)
    )
    later = stays.select(
        r_person=stays.person_id, r_start=stays.start_date, r_id=stays.encounter_id
    )
    hits = (
        index.join(
            later,
            [
                index.person_id == later.r_person,
                later.r_start > index.end_date,
                later.r_start <= index.end_date + ibis.interval(days=30),
            ],
        )
        .select("encounter_id")
        .distinct()
        .mutate(readmitted=ibis.literal(True))
    )
    joined = index.left_join(hits, "encounter_id")
    return joined.select(
        "person_id",
        encounter_id=index.encounter_id,
        end_date=index.end_date,
        readmitted=ibis.coalesce(joined.readmitted, False),
    )


def utilization(encounters: ibis.Table, member_months: ibis.Table) -> ibis.Table:
    """Columns: year, member_months, member_years, inpatient_admits, ed_visits,
    index_discharges, readmissions_30d, admits_per_1000, ed_visits_per_1000,
    readmission_rate."""
    months = member_months.mutate(year=member_months.year_month.left(4).cast("int32"))
    exposure = months.group_by("year").aggregate(member_months=_.count())
    enc = encounters.mutate(year=encounters.start_date.year().cast("int32"))
    counts = enc.group_by("year").aggregate(
        inpatient_admits=(enc.encounter_type == "inpatient").sum(),
        ed_visits=(enc.encounter_type == "ed").sum(),
    )
    stays = encounters.filter(encounters.encounter_type == "inpatient")
    readmits = readmissions(stays)
    readmits = readmits.mutate(year=readmits.end_date.year().cast("int32"))
    readmit_counts = readmits.group_by("year").aggregate(
        index_discharges=_.count(), readmissions_30d=_.readmitted.sum()
    )
    out = exposure.left_join(counts, "year").left_join(readmit_counts, "year")
    # Float arithmetic throughout: Spark would otherwise divide by a decimal literal and round.
    member_years = out.member_months.cast("float64") / 12.0
    ip = ibis.coalesce(out.inpatient_admits, 0)
    ed = ibis.coalesce(out.ed_visits, 0)
    index_n = ibis.coalesce(out.index_discharges, 0)
    readmit_n = ibis.coalesce(out.readmissions_30d, 0)
    return out.select(
        year=exposure.year,
        member_months=out.member_months,
        member_years=member_years,
        inpatient_admits=ip,
        ed_visits=ed,
        index_discharges=index_n,
        readmissions_30d=readmit_n,
        admits_per_1000=ip.cast("float64") * 1000.0 / member_years,
        ed_visits_per_1000=ed.cast("float64") * 1000.0 / member_years,
        readmission_rate=ibis.ifelse(index_n > 0, readmit_n / index_n.cast("float64"), None),
    ).order_by("year")
