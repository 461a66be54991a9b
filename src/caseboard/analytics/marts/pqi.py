"""AHRQ Prevention Quality Indicators (PQIs): admissions that good outpatient care can prevent.

Area-level PQIs (AHRQ QI technical specifications, v2024/v2025) applied to a plan's members:
the numerator counts inpatient stays, the denominator is member-years of the eligible ages.
Definitions and the exact exclusions are in docs/analytics/avoidable_use.md; codes come from
the AHRQ value sets (caseboard.analytics.value_sets), read in place.

Each stay from `encounters` is joined back to its hospital inpatient claims (type of bill 11x)
for every diagnosis and procedure code on them; the principal diagnosis is the stay's
primary_diagnosis_code; age and sex come from eligibility.

- `pqi_events`: one row per qualifying stay per PQI, composites included;
- `pqi_rates`: per discharge year and PQI, numerator, member-years and the rate per 100,000.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import ibis
import ibis.expr.types as ir
import ibis.selectors as s
import polars as pl

from caseboard.analytics import value_sets

EVENT_COLUMNS = ("person_id", "encounter_id", "pqi_number", "admit_date", "discharge_date", "year")
RATE_COLUMNS = (
    "year",
    "pqi_number",
    "pqi_name",
    "numerator",
    "member_months",
    "denominator",
    "rate_per_100000",
)

# UB-04 point of origin (admit_source_code): 4 transfer from a hospital (different facility),
# 5 from a skilled nursing, intermediate care or assisted living facility, 6 from another health
# care facility. AHRQ excludes these admissions from every PQI: the avoidable admission, if any,
# was the first facility's.
TRANSFER_IN = ("4", "5", "6")

Kind = Literal["principal", "any_dx", "any_px"]


@dataclass(frozen=True)
class _CodeSet:
    flag: str
    pqi_number: str  # as written in pqi__value_sets.csv
    value_set_name: str
    kind: Kind  # principal diagnosis, any-listed diagnosis, any-listed procedure


_CODE_SETS = (
    _CodeSet(
        "dm_short_term", "01", "diabetes_with_short-term_complications_diagnosis_codes", "principal"
    ),
    _CodeSet(
        "dm_long_term", "03", "diabetes_with_long-term_complications_diagnosis_codes", "principal"
    ),
    _CodeSet("copd", "05", "chronic_obstructive_pulmonary_disorder", "principal"),
    _CodeSet("asthma_older", "05", "asthma", "principal"),
    _CodeSet(
        "resp_anomaly_05", "05", "cystic_fibrosis_and_anomalies_of_the_respiratory_system", "any_dx"
    ),
    _CodeSet("hypertension", "07", "hypertension_diagnosis_codes", "principal"),
    _CodeSet("ckd_stage_1_4", "07", "exclusion_kidney_disease_diagnosis_codes", "any_dx"),
    _CodeSet("dialysis_access", "07", "exclusion_dialysis_access_procedure_codes", "any_px"),
    _CodeSet("heart_failure", "08", "heart_failure_diagnosis_codes", "principal"),
    _CodeSet(
        "pneumonia", "11", "community_acquired_bacterial_pneumonia_diagnosis_codes", "principal"
    ),
    _CodeSet("sickle_cell", "11", "sickle_cell_anemia_or_hb-s_disease_diagnosis_codes", "any_dx"),
    _CodeSet("uti", "12", "urinary_tract_infection_diagnosis_codes", "principal"),
    _CodeSet("kidney_urinary", "12", "kidney_or_urinary_tract_disorder_diagnosis_codes", "any_dx"),
    _CodeSet("dm_uncontrolled", "14", "uncontrolled_diabetes_diagnosis_codes", "principal"),
    _CodeSet("asthma_younger", "15", "asthma_diagnosis_codes", "principal"),
    _CodeSet(
        "resp_anomaly_15",
        "15",
        "cystic_fibrosis_and_anomalies_of_the_respiratory_system_diagnosis_codes",
        "any_dx",
    ),
    _CodeSet("diabetes_any", "16", "diabetes_diagnosis_codes", "any_dx"),
    _CodeSet("le_amputation", "16", "lower-extremity_amputation_procedure_codes", "any_px"),
    _CodeSet(
        "traumatic_amputation",
        "16",
        "traumatic_amputation_of_the_lower_extremity_diagnosis_codes",
        "any_dx",
    ),
    _CodeSet("cardiac_procedure", "appendix_b", "cardiac_procedure_codes", "any_px"),
    _CodeSet(
        "immunocompromised_dx", "appendix_c", "immunocompromised_state_diagnosis_codes", "any_dx"
    ),
    _CodeSet(
        "immunocompromised_px", "appendix_c", "immunocompromised_state_procedure_codes", "any_px"
    ),
    _CodeSet("mdc_14", "appendix_f", "mdc_14_principal_diagnosis_codes", "principal"),
)
FLAGS = tuple(code_set.flag for code_set in _CODE_SETS)

Rule = Callable[[ir.Table], ir.BooleanValue]


@dataclass(frozen=True)
class _Measure:
    min_age: int
    max_age: int | None
    qualifies: Rule


# Numerator rules of the technical specifications, on top of the exclusions every PQI shares
# (see _eligible). Names and descriptions are in pqi__measures.csv.
MEASURES: dict[str, _Measure] = {
    "01": _Measure(18, None, lambda f: f.dm_short_term),
    "03": _Measure(18, None, lambda f: f.dm_long_term),
    "05": _Measure(40, None, lambda f: (f.copd | f.asthma_older) & ~f.resp_anomaly_05),
    "07": _Measure(
        18,
        None,
        lambda f: f.hypertension & ~f.cardiac_procedure & ~(f.ckd_stage_1_4 & f.dialysis_access),
    ),
    "08": _Measure(18, None, lambda f: f.heart_failure & ~f.cardiac_procedure),
    "11": _Measure(
        18,
        None,
        lambda f: f.pneumonia & ~f.sickle_cell & ~f.immunocompromised_dx & ~f.immunocompromised_px,
    ),
    "12": _Measure(
        18,
        None,
        lambda f: f.uti & ~f.kidney_urinary & ~f.immunocompromised_dx & ~f.immunocompromised_px,
    ),
    "14": _Measure(18, None, lambda f: f.dm_uncontrolled),
    "15": _Measure(18, 39, lambda f: f.asthma_younger & ~f.resp_anomaly_15),
    "16": _Measure(18, None, lambda f: f.diabetes_any & f.le_amputation & ~f.traumatic_amputation),
}

# AHRQ composites: a stay counts once however many of its members it qualifies for; the
# denominator is the population aged 18 and over. (PQI 10, dehydration, was part of 90 and 91
# until AHRQ retired it.)
COMPOSITES: dict[str, tuple[str, tuple[str, ...]]] = {
    "90": ("Prevention Quality Overall Composite", tuple(MEASURES)),
    "91": ("Prevention Quality Acute Composite", ("11", "12")),
    "92": (
        "Prevention Quality Chronic Composite",
        ("01", "03", "05", "07", "08", "14", "15", "16"),
    ),
    "93": ("Prevention Quality Diabetes Composite", ("01", "03", "14", "16")),
}
COMPOSITE_MIN_AGE = 18


def _normalized(code: ir.StringValue) -> ir.StringValue:
    cleaned = code.cast("string").strip().upper().replace(".", "")
    return ibis.ifelse(cleaned == "", ibis.null("string"), cleaned)


def _age_on(birth: ir.DateValue, on: ir.DateValue) -> ir.IntegerValue:
    birthday_later = (on.month() * 100 + on.day()) < (birth.month() * 100 + birth.day())
    return (on.year() - birth.year() - birthday_later.cast("int64")).cast("int64")


def _people(eligibility: ibis.Table) -> ibis.Table:
    """person_id, birth_date, sex ('F'/'M', else null) from each person's latest span."""
    latest = eligibility.mutate(
        _n=ibis.row_number().over(
            group_by=eligibility.person_id,
            order_by=[
                eligibility.enrollment_start_date.desc(),
                eligibility.enrollment_end_date.desc(),
            ],
        )
    )
    latest = latest.filter(latest._n == 0)
    gender = latest.gender.cast("string").strip().lower()
    return latest.select(
        "person_id",
        birth_date=latest.birth_date.cast("date"),
        sex=ibis.cases(
            (gender.isin(["female", "f", "2"]), "F"),
            (gender.isin(["male", "m", "1"]), "M"),
            else_=ibis.null("string"),
        ),
    )


def _hospital_lines(medical_claim: ibis.Table) -> ibis.Table:
    mc = medical_claim
    bill2 = mc.bill_type_code.cast("string").lpad(3, "0").left(2)
    lines = mc.filter((mc.claim_type == "institutional") & (bill2 == "11"))
    return lines.select(
        "person_id",
        "claim_id",
        "admit_source_code",
        "diagnosis_code_type",
        s.matches(r"^(diagnosis|procedure)_code_\d+$"),
        line_start=ibis.coalesce(
            lines.admission_date, lines.claim_line_start_date, lines.claim_start_date
        ).cast("date"),
    )


def _stay_claims(lines: ibis.Table, stays: ibis.Table) -> ibis.Table:
    """encounter_id, claim_id, person_id, claim_start, admit_source for each claim of a stay.

    Stays are built from these claims (encounters.inpatient_stays), so each claim's first day
    falls inside exactly one stay of its person.
    """
    claims = lines.group_by(["person_id", "claim_id"]).aggregate(
        claim_start=lines.line_start.min(),
        admit_source=lines.admit_source_code.cast("string").max(),
    )
    s_ = stays.select(
        s_person=stays.person_id,
        encounter_id=stays.encounter_id,
        s_start=stays.start_date,
        s_end=stays.end_date,
    )
    joined = claims.join(
        s_,
        [
            claims.person_id == s_.s_person,
            claims.claim_start >= s_.s_start,
            claims.claim_start <= s_.s_end,
        ],
    )
    return joined.select("encounter_id", "person_id", "claim_id", "claim_start", "admit_source")


def _point_of_origin(stay_claims: ibis.Table) -> ibis.Table:
    """The first claim's admit source is where the stay came from (later bills are interim)."""
    ranked = stay_claims.mutate(
        _n=ibis.row_number().over(
            group_by=stay_claims.encounter_id,
            order_by=[stay_claims.claim_start, stay_claims.claim_id],
        )
    )
    first = ranked.filter(ranked._n == 0)
    origin = first.admit_source.strip().re_replace(r"^0+(\d)", r"\1")
    return first.select("encounter_id", point_of_origin=origin)


def _stay_codes(lines: ibis.Table, stay_claims: ibis.Table, stays: ibis.Table) -> ibis.Table:
    """encounter_id, kind, code: the principal diagnosis and every listed diagnosis/procedure."""
    keys = stay_claims.select(
        k_person=stay_claims.person_id, k_claim=stay_claims.claim_id, k_id=stay_claims.encounter_id
    )
    on_stay = lines.join(
        keys, [lines.person_id == keys.k_person, lines.claim_id == keys.k_claim]
    ).mutate(encounter_id=ibis._.k_id)
    dx_type = on_stay.diagnosis_code_type.cast("string").lower()
    dx_wide = (
        on_stay.filter(dx_type.isnull() | ~dx_type.startswith("icd-9"))  # ICD-10-CM only
        .select("encounter_id", s.matches(r"^diagnosis_code_\d+$"))
        .distinct()
    )
    dx = dx_wide.pivot_longer(
        s.matches(r"^diagnosis_code_\d+$"), names_to="position", values_to="raw"
    )
    px_wide = on_stay.select("encounter_id", s.matches(r"^procedure_code_\d+$")).distinct()
    px = px_wide.pivot_longer(
        s.matches(r"^procedure_code_\d+$"), names_to="position", values_to="raw"
    )
    principal = stays.select(
        "encounter_id",
        kind=ibis.literal("principal"),
        code=_normalized(stays.primary_diagnosis_code),
    )
    listed = ibis.union(
        dx.select("encounter_id", kind=ibis.literal("any_dx"), code=_normalized(dx.raw)),
        px.select("encounter_id", kind=ibis.literal("any_px"), code=_normalized(px.raw)),
    )
    codes = ibis.union(principal, listed, distinct=False)
    return codes.filter(codes.code.notnull())


def _catalogue(value_sets_dir: Path | None) -> ibis.Table:
    sets = value_sets.pqi_value_sets(value_sets_dir)
    frames = []
    for code_set in _CODE_SETS:
        codes = sets.filter(
            (pl.col("pqi_number") == code_set.pqi_number)
            & (pl.col("value_set_name") == code_set.value_set_name)
        )
        if codes.is_empty():
            raise ValueError(
                f"{value_sets.PQI_VALUE_SETS} has no codes for pqi_number {code_set.pqi_number!r}, "
                f"value_set_name {code_set.value_set_name!r}"
            )
        frames.append(
            codes.select("code", kind=pl.lit(code_set.kind), flag=pl.lit(code_set.flag)).unique()
        )
    return ibis.memtable(pl.concat(frames).to_arrow())


def _flags(codes: ibis.Table, catalogue: ibis.Table) -> ibis.Table:
    hits = (
        codes.join(catalogue, [codes.kind == catalogue.kind, codes.code == catalogue.code])
        .select("encounter_id", "flag")
        .distinct()
    )
    return hits.group_by("encounter_id").aggregate(
        **{flag: (hits.flag == flag).any() for flag in FLAGS}
    )


def pqi_stays(
    encounters: ibis.Table,
    medical_claim: ibis.Table,
    eligibility: ibis.Table,
    *,
    value_sets_dir: Path | None = None,
) -> ibis.Table:
    """One row per inpatient stay with what the PQI rules read: person_id, encounter_id,
    admit_date, discharge_date, principal_diagnosis_code, point_of_origin, sex, age (at
    admission), eligible (passes the exclusions all PQIs share) and one boolean per code set."""
    stays = encounters.filter(encounters.encounter_type == "inpatient")
    lines = _hospital_lines(medical_claim)
    stay_claims = _stay_claims(lines, stays)
    origin = _point_of_origin(stay_claims)
    flags = _flags(_stay_codes(lines, stay_claims, stays), _catalogue(value_sets_dir))
    who = _people(eligibility)

    facts = (
        stays.left_join(origin, "encounter_id")
        .left_join(flags, "encounter_id")
        .left_join(who, "person_id")
    )
    facts = facts.select(
        person_id=stays.person_id,
        encounter_id=stays.encounter_id,
        admit_date=stays.start_date,
        discharge_date=stays.end_date,
        principal_diagnosis_code=_normalized(stays.primary_diagnosis_code),
        point_of_origin=facts.point_of_origin,
        sex=facts.sex,
        age=_age_on(facts.birth_date, stays.start_date),
        **{flag: ibis.coalesce(facts[flag], False) for flag in FLAGS},
    )
    # Shared exclusions: transfers in; missing sex, age, admission/discharge date or principal
    # diagnosis; a principal diagnosis in MDC 14 (pregnancy, childbirth and the puerperium).
    eligible = (
        (facts.point_of_origin.isnull() | ~facts.point_of_origin.isin(TRANSFER_IN))
        & facts.sex.notnull()
        & facts.age.notnull()
        & (facts.age >= 0)
        & facts.admit_date.notnull()
        & facts.discharge_date.notnull()
        & facts.principal_diagnosis_code.notnull()
        & ~facts.mdc_14
    )
    return facts.mutate(eligible=eligible)


def pqi_events(
    encounters: ibis.Table,
    medical_claim: ibis.Table,
    eligibility: ibis.Table,
    *,
    value_sets_dir: Path | None = None,
) -> ibis.Table:
    """One row per qualifying stay per PQI (individual measures and composites 90–93):
    person_id, encounter_id, pqi_number ('01'…'16', '90'…'93'), admit_date, discharge_date,
    year (of discharge: AHRQ counts discharges)."""
    facts = pqi_stays(encounters, medical_claim, eligibility, value_sets_dir=value_sets_dir)
    facts = facts.filter(facts.eligible)
    # One pass over the stays: pair each with every PQI number and keep the pairs that
    # qualify. (A union of one filter per PQI repeats the whole plan per branch, which Spark's
    # analyser cannot afford.)
    numbers = ibis.memtable(
        pl.DataFrame(
            {"pqi_number": [*MEASURES, *COMPOSITES]}, schema={"pqi_number": pl.String()}
        ).to_arrow()
    )
    pairs = facts.cross_join(numbers)
    rules = {number: _qualifies(pairs, number) for number in MEASURES}
    for number, (_, members) in COMPOSITES.items():
        rules[number] = functools.reduce(operator.or_, (rules[m] for m in members))
    qualifies = ibis.cases(
        *((pairs.pqi_number == number, rule) for number, rule in rules.items()),
        else_=False,
    )
    return pairs.filter(qualifies).select(
        "person_id",
        "encounter_id",
        "pqi_number",
        "admit_date",
        "discharge_date",
        year=pairs.discharge_date.year().cast("int32"),
    )


def _qualifies(stays: ir.Table, number: str) -> ir.BooleanValue:
    measure = MEASURES[number]
    in_age = stays.age >= measure.min_age
    if measure.max_age is not None:
        in_age = in_age & (stays.age <= measure.max_age)
    return in_age & measure.qualifies(stays)


def _age_bands(value_sets_dir: Path | None) -> ibis.Table:
    names = dict(
        value_sets.pqi_measures(value_sets_dir).select("pqi_number", "pqi_name").iter_rows()
    )
    rows = [
        {
            "pqi_number": number,
            "pqi_name": names.get(number, f"PQI {number}"),
            "min_age": measure.min_age,
            "max_age": measure.max_age if measure.max_age is not None else 10_000,
        }
        for number, measure in MEASURES.items()
    ]
    rows += [
        {"pqi_number": number, "pqi_name": name, "min_age": COMPOSITE_MIN_AGE, "max_age": 10_000}
        for number, (name, _) in COMPOSITES.items()
    ]
    return ibis.memtable(
        pl.DataFrame(
            rows,
            schema={
                "pqi_number": pl.String(),
                "pqi_name": pl.String(),
                "min_age": pl.Int64(),
                "max_age": pl.Int64(),
            },
        ).to_arrow()
    )


def pqi_rates(
    events: ibis.Table,
    member_months: ibis.Table,
    eligibility: ibis.Table,
    *,
    value_sets_dir: Path | None = None,
) -> ibis.Table:
    """Per year and PQI: numerator (qualifying stays discharged in a month the member was
    enrolled), member_months and denominator (member-years) in the PQI's age band (age on the
    first day of each month), rate_per_100000 = numerator / member-years × 100,000.

    `member_months` is the member_months mart: one row per person and month."""
    months = member_months.select("person_id", "year_month")
    who = _people(eligibility).filter(ibis._.birth_date.notnull())
    # Member months by month and birth date, then by year and age: ages are worked out for a
    # few rows per birth date, and the bands then meet a few hundred rows, not one per member
    # and month for each PQI.
    cells = (
        months.join(who, "person_id")
        .group_by(["year_month", "birth_date"])
        .aggregate(member_months=ibis._.count())
    )
    year = cells.year_month.left(4).cast("int32")
    month_start = ibis.date(year, cells.year_month.substr(4, 2).cast("int32"), 1)
    by_age = (
        cells.mutate(year=year, age=_age_on(cells.birth_date, month_start))
        .group_by(["year", "age"])
        .aggregate(member_months=ibis._.member_months.sum())
    )
    bands = _age_bands(value_sets_dir)
    exposure = (
        by_age.cross_join(bands)
        .filter((ibis._.age >= ibis._.min_age) & (ibis._.age <= ibis._.max_age))
        .group_by(["year", "pqi_number", "pqi_name"])
        .aggregate(member_months=ibis._.member_months.sum())
    )

    enrolled = member_months.select(m_person="person_id", m_month="year_month")
    counted = events.semi_join(
        enrolled,
        [
            events.person_id == enrolled.m_person,
            events.discharge_date.strftime("%Y%m") == enrolled.m_month,
        ],
    )
    counts = counted.group_by(["year", "pqi_number"]).aggregate(numerator=ibis._.count())
    out = exposure.left_join(counts, ["year", "pqi_number"])
    numerator = ibis.coalesce(out.numerator, 0)
    member_years = out.member_months / 12.0
    return out.select(
        year=exposure.year,
        pqi_number=exposure.pqi_number,
        pqi_name=out.pqi_name,
        numerator=numerator,
        member_months=out.member_months,
        denominator=member_years,
        rate_per_100000=numerator * 100_000.0 / member_years,
    ).order_by(["year", "pqi_number"])
