"""Recent hospital stays and ED visits per member: what the app turns into episodes for a plan
without an ADT feed (seed 004 step 6b, seed 003: follow-up after hospital and ED visits).

One row per inpatient stay, ED visit or observation stay (as `encounters` defines them) that
ended, or began when it has no end, within the `days` before the run's as_of date:

- encounter_id: `<IP|ED|OB>-<person_id>-<admit date YYYYMMDD>`. Stable from one run to the next
  (the `encounters` mart numbers stays, and a number moves when an older stay arrives late);
  a stay whose admission date changes (an earlier interim bill arriving) gets a new key.
- admit_date, discharge_date: the encounter's first and last service dates.
- facility_npi: the facility's NPI when the claims carry it (the app knows the names).
- primary_diagnosis_code, primary_diagnosis_text: the principal diagnosis (first position on
  the stay's last bill) and its ICD-10-CM description per `simple_icd_10_cm`, when valid.
- discharge_disposition_code: UB-04 patient discharge status, from the stay's last bill.
- claim_ids: the institutional claims behind the encounter (service dates inside it), sorted.
"""

from __future__ import annotations

import datetime

import ibis
import polars as pl

from caseboard.analytics.marts.prework import describe

RECENT_DAYS = 180
KINDS = {"inpatient": "IP", "ed": "ED", "observation": "OB"}

COLUMNS = (
    "person_id",
    "encounter_id",
    "encounter_type",
    "admit_date",
    "discharge_date",
    "facility_npi",
    "primary_diagnosis_code",
    "primary_diagnosis_text",
    "discharge_disposition_code",
    "claim_ids",
)


def recent_encounters(
    encounters: ibis.Table,
    medical_claim: ibis.Table,
    as_of: datetime.date,
    days: int = RECENT_DAYS,
) -> pl.DataFrame:
    if days < 1:
        raise ValueError(f"the recent-encounter window must be at least one day, not {days}")
    since = as_of - datetime.timedelta(days=days)
    enc = encounters
    last_day = ibis.coalesce(enc.end_date, enc.start_date)
    recent = enc.filter(
        enc.encounter_type.isin(list(KINDS))
        & (last_day > since)
        & (last_day <= as_of)
        & (enc.start_date <= as_of)
    )
    prefix = recent.encounter_type.substitute(KINDS)
    recent = recent.select(
        "person_id",
        "encounter_type",
        "facility_npi",
        "primary_diagnosis_code",
        "discharge_disposition_code",
        encounter_id=prefix + "-" + recent.person_id + "-" + recent.start_date.strftime("%Y%m%d"),
        admit_date=recent.start_date,
        discharge_date=ibis.coalesce(recent.end_date, recent.start_date),
    )
    mc = medical_claim
    bills = mc.filter(mc.claim_type == "institutional").select(
        b_person=mc.person_id,
        claim_id=mc.claim_id,
        b_day=ibis.coalesce(mc.claim_line_start_date, mc.claim_start_date).cast("date"),
    )
    behind = (
        recent.join(
            bills,
            [
                recent.person_id == bills.b_person,
                bills.b_day >= recent.admit_date,
                bills.b_day <= recent.discharge_date,
            ],
        )
        .select("encounter_id", "claim_id")
        .distinct()
    )
    claims = behind.to_polars().group_by("encounter_id").agg(pl.col("claim_id").sort())
    frame = recent.to_polars()
    # Two encounters of one kind cannot start on the same day for a person (the encounters
    # mart merges them), so the key is unique; keep the first should that ever break.
    frame = frame.unique("encounter_id", keep="first", maintain_order=True)
    codes = frame.select(pl.col("primary_diagnosis_code").unique()).with_columns(
        primary_diagnosis_text=pl.col("primary_diagnosis_code").map_elements(
            _text, return_dtype=pl.String
        )
    )
    return (
        frame.join(codes, on="primary_diagnosis_code", how="left", nulls_equal=True)
        .join(claims.rename({"claim_id": "claim_ids"}), on="encounter_id", how="left")
        .with_columns(
            pl.col("claim_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("admit_date").cast(pl.Date),
            pl.col("discharge_date").cast(pl.Date),
        )
        .select(COLUMNS)
        .sort(["person_id", "admit_date", "encounter_id"])
    )


def _text(code: str | None) -> str | None:
    """The description alone ('Acute on chronic systolic heart failure'), or None."""
    described = describe(code)
    if described is None or described == code:
        return None
    return described.split(" ", 1)[1]
