"""Synthea CSV export (`output/csv/`) into the Tuva input layer.

- eligibility: one span per payer_transitions row with a real payer (NO_INSURANCE rows are gaps
  in coverage, not coverage), with the patient's demographics from patients.csv;
- medical_claim: one line per CHARGE transaction of each encounter claim in claims.csv, with the
  amounts of the transactions that follow it (payments, adjustments, transfers), as Synthea's CSV
  data dictionary describes them (github.com/synthetichealth/synthea/wiki/CSV-File-Data-Dictionary);
- pharmacy_claim: one row per medications.csv row, with the amounts of its medication claim.

What cannot be mapped is left null and counted in the notes: Synthea codes diagnoses and
procedures in SNOMED CT (and vaccines in CVX, drugs in RxNorm), none of which is ICD-10-CM, HCPCS
or NDC. `docs/analytics/loaders.md` explains each column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from caseboard.analytics.loaders import (
    Converted,
    LoaderError,
    ingest_time,
    require_folder,
    tuva_frame,
)
from caseboard.analytics.quality import empty_table

DATA_SOURCE = "synthea"

REQUIRED: dict[str, tuple[str, ...]] = {
    "patients": ("Id", "BIRTHDATE", "DEATHDATE", "GENDER"),
    "payers": ("Id", "NAME"),
    "payer_transitions": ("PATIENT", "START_DATE", "END_DATE", "PAYER"),
    "encounters": ("Id", "START", "STOP", "PATIENT", "PAYER", "ENCOUNTERCLASS"),
    "claims": ("Id", "PATIENTID", "PRIMARYPATIENTINSURANCEID", "APPOINTMENTID", "SERVICEDATE"),
    "claims_transactions": (
        "CLAIMID",
        "CHARGEID",
        "TYPE",
        "AMOUNT",
        "METHOD",
        "FROMDATE",
        "TODATE",
        "PROCEDURECODE",
        "TRANSFERTYPE",
        "PAYMENTS",
        "ADJUSTMENTS",
    ),
    "medications": ("START", "PATIENT", "PAYER", "ENCOUNTER", "CODE", "DISPENSES"),
    "conditions": ("CODE",),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "patients": (
        "FIRST",
        "LAST",
        "SUFFIX",
        "SSN",
        "RACE",
        "ETHNICITY",
        "ADDRESS",
        "CITY",
        "STATE",
        "ZIP",
    ),
    "payers": ("OWNERSHIP",),
    "payer_transitions": ("MEMBERID", "SECONDARY_PAYER", "PLAN_OWNERSHIP"),
    "claims": tuple(f"DIAGNOSIS{i}" for i in range(1, 9)),
    "claims_transactions": ("UNITS",),
    "medications": ("BASE_COST", "PAYER_COVERAGE"),
}

# Encounter class → (claim_type, bill_type_code, revenue_center_code, place_of_service_code).
# Inpatient and emergency encounters are hospital (institutional) claims: bill type 111
# (hospital inpatient, admit through discharge) and 131 (hospital outpatient) with revenue code
# 0450 (emergency room), which is what ED-visit logic looks for. Office-type encounters are
# professional claims; their place of service is inferred from the class.
ENCOUNTER_CLASSES: dict[str, tuple[str, str | None, str | None, str | None]] = {
    "inpatient": ("institutional", "111", None, None),
    "emergency": ("institutional", "131", "0450", None),
    "snf": ("institutional", "211", None, None),
    "hospice": ("institutional", "811", None, None),
    "ambulatory": ("professional", None, None, "11"),
    "wellness": ("professional", None, None, "11"),
    "outpatient": ("professional", None, None, "22"),
    "urgentcare": ("professional", None, None, "20"),
    "home": ("professional", None, None, "12"),
    "virtual": ("professional", None, None, "02"),
}
_STAYS = ("inpatient", "snf")
_GENDER = {"M": "male", "F": "female"}
_RACE = {
    "white": "white",
    "black": "black or african american",
    "asian": "asian",
    "native": "american indian or alaska native",
    "hawaiian": "native hawaiian or other pacific islander",
    "other": "other race",
}
_ETHNICITY = {"hispanic": "hispanic or latino", "nonhispanic": "not hispanic or latino"}
_PAYER_TYPE = {"medicare": "medicare", "medicaid": "medicaid", "dual eligible": "medicare"}
_EPOCH = "1970-01-01"


def _read(input_dir: Path, name: str, notes: dict[str, Any]) -> pl.DataFrame | None:
    path = input_dir / f"{name}.csv"
    if not path.is_file():
        notes["missing"].append(path.name)
        return None
    frame = pl.read_csv(path, infer_schema=False)
    missing = [c for c in REQUIRED[name] if c not in frame.columns]
    if missing:
        notes["unusable"].append({"file": path.name, "reason": f"missing {', '.join(missing)}"})
        return None
    notes["used"].append(path.name)
    optional = OPTIONAL.get(name, ())
    return frame.select(
        *REQUIRED[name],
        *(
            pl.col(c) if c in frame.columns else pl.lit(None, dtype=pl.String).alias(c)
            for c in optional
        ),
    )


def _day(column: str) -> pl.Expr:
    """The date part of Synthea's ISO-8601 UTC timestamps (and plain dates)."""
    return pl.col(column).str.strip_chars().str.slice(0, 10)


def _stop(stop: str, start: str) -> pl.Expr:
    """A stop date; Synthea writes the Unix epoch for items without one: they end as they start."""
    return pl.when(_day(stop) == _EPOCH).then(_day(start)).otherwise(_day(stop))


def _money(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().cast(pl.Float64, strict=False)


def _file_columns(file_name: str, now: Any) -> list[pl.Expr]:
    return [
        pl.lit(DATA_SOURCE).alias("data_source"),
        pl.lit(file_name).alias("file_name"),
        pl.lit(now).alias("ingest_datetime"),
    ]


# --------------------------------------------------------------------------------------------
# Eligibility
# --------------------------------------------------------------------------------------------
def _eligibility(
    patients: pl.DataFrame,
    payers: pl.DataFrame,
    transitions: pl.DataFrame,
    now: Any,
    notes: dict[str, Any],
) -> pl.DataFrame:
    spans = transitions.join(
        payers.select(pl.col("Id").alias("PAYER"), "NAME", "OWNERSHIP"), on="PAYER", how="left"
    )
    uninsured = (pl.col("NAME") == "NO_INSURANCE") | (pl.col("OWNERSHIP") == "NO_INSURANCE")
    insured = spans.filter(~uninsured.fill_null(False))
    name = pl.col("NAME").str.to_lowercase()
    frame = insured.join(patients, left_on="PATIENT", right_on="Id", how="left").select(
        pl.col("PATIENT").alias("person_id"),
        pl.col("MEMBERID").alias("member_id"),
        pl.col("GENDER").replace_strict(_GENDER, default="unknown").alias("gender"),
        pl.col("RACE").replace_strict(_RACE, default="unknown").alias("race"),
        pl.col("BIRTHDATE").alias("birth_date"),
        pl.col("DEATHDATE").alias("death_date"),
        pl.col("DEATHDATE").is_not_null().alias("death_flag"),
        _day("START_DATE").alias("enrollment_start_date"),
        _day("END_DATE").alias("enrollment_end_date"),
        pl.col("NAME").alias("payer"),
        pl.when(pl.col("OWNERSHIP").str.to_uppercase() == "PRIVATE")
        .then(pl.lit("commercial"))
        .otherwise(name.replace_strict(_PAYER_TYPE, default=None))
        .alias("payer_type"),
        pl.col("NAME").alias("plan"),
        pl.col("SUFFIX").alias("name_suffix"),
        pl.col("FIRST").alias("first_name"),
        pl.col("LAST").alias("last_name"),
        pl.col("SSN").alias("social_security_number"),
        pl.col("PLAN_OWNERSHIP").str.to_lowercase().alias("subscriber_relation"),
        pl.col("ADDRESS").alias("address"),
        pl.col("CITY").alias("city"),
        pl.col("STATE").alias("state"),
        pl.col("ZIP").alias("zip_code"),
        pl.col("ETHNICITY").replace_strict(_ETHNICITY, default="unknown").alias("ethnicity"),
        *_file_columns("payer_transitions.csv", now),
    )
    covered = set(frame.get_column("person_id").to_list())
    notes["spans"] = frame.height
    notes["no_insurance_rows_left_out"] = spans.height - insured.height
    notes["spans_with_a_secondary_payer"] = int(
        insured.get_column("SECONDARY_PAYER").is_not_null().sum()
    )
    notes["secondary_payer"] = (
        "SECONDARY_PAYER gets no span of its own: the input layer's spans are per primary payer"
    )
    notes["patients_without_eligibility"] = sorted(
        p for p in patients.get_column("Id").to_list() if p not in covered
    )
    return tuva_frame(frame, "eligibility").collect()


# --------------------------------------------------------------------------------------------
# Claim lines from claims_transactions
# --------------------------------------------------------------------------------------------
def _charge_lines(transactions: pl.DataFrame, notes: dict[str, Any]) -> pl.DataFrame:
    """One row per CHARGE with the money of the transactions that follow it on its claim.

    Transactions of a claim, in CHARGEID order, start with a CHARGE and continue with the
    PAYMENTs, ADJUSTMENTs and TRANSFERs against it until the next CHARGE. Who pays a PAYMENT is
    whoever holds the balance at that point: the TRANSFERTYPE of the CHARGE (1 primary insurer,
    p patient) or of the latest TRANSFERIN (2 secondary insurer, p patient). COPAY payments are
    the patient's whoever holds the balance.
    """
    ordered = (
        transactions.with_columns(
            pl.col("CHARGEID").str.strip_chars().cast(pl.Int64, strict=False).alias("__order")
        )
        .with_row_index("__src")
        .sort("CLAIMID", "__order", "__src")
        .with_columns(
            (pl.col("TYPE") == "CHARGE").cast(pl.Int32).cum_sum().over("CLAIMID").alias("__line")
        )
    )
    notes["transactions_before_any_charge_left_out"] = int((ordered["__line"] == 0).sum())
    ordered = ordered.filter(pl.col("__line") > 0).with_columns(
        pl.when(pl.col("TYPE").is_in(["CHARGE", "TRANSFERIN"]))
        .then(pl.col("TRANSFERTYPE").str.strip_chars().str.to_lowercase())
        .forward_fill()
        .over("CLAIMID", "__line")
        .alias("__holder")
    )
    payment = pl.col("TYPE") == "PAYMENT"
    copay = pl.col("METHOD") == "COPAY"
    paid = _money("PAYMENTS").fill_null(0.0)
    charge = pl.col("TYPE") == "CHARGE"
    lines = ordered.group_by("CLAIMID", "__line", maintain_order=True).agg(
        pl.col("AMOUNT").filter(charge).first().alias("charge"),
        pl.col("FROMDATE").filter(charge).first().alias("from"),
        pl.col("TODATE").filter(charge).first().alias("to"),
        pl.col("PROCEDURECODE").filter(charge).first().alias("procedure"),
        pl.col("UNITS").filter(charge).first().alias("units"),
        paid.filter(payment & ~copay & (pl.col("__holder") == "1")).sum().alias("primary_paid"),
        paid.filter(payment & ~copay & (pl.col("__holder") == "2")).sum().alias("secondary_paid"),
        paid.filter(payment & (copay | (pl.col("__holder") == "p"))).sum().alias("patient_paid"),
        paid.filter(payment & copay).sum().alias("copay"),
        _money("ADJUSTMENTS")
        .fill_null(0.0)
        .filter(pl.col("TYPE") == "ADJUSTMENT")
        .sum()
        .alias("adjustments"),
    )
    return lines.rename({"CLAIMID": "claim_id", "__line": "claim_line_number"})


def _amounts() -> list[pl.Expr]:
    charge = _money("charge")
    return [
        pl.col("charge").alias("charge_amount"),
        pl.col("primary_paid").alias("paid_amount"),
        (charge - pl.col("adjustments")).alias("allowed_amount"),
        pl.col("copay").alias("copayment_amount"),
        (pl.col("primary_paid") + pl.col("secondary_paid") + pl.col("patient_paid")).alias(
            "total_cost_amount"
        ),
    ]


def _payer_names(payers: pl.DataFrame) -> pl.DataFrame:
    return payers.select(pl.col("Id").alias("__payer_id"), pl.col("NAME").alias("__payer"))


# --------------------------------------------------------------------------------------------
# Medical claims
# --------------------------------------------------------------------------------------------
def _medical(
    claims: pl.DataFrame,
    encounters: pl.DataFrame,
    lines: pl.DataFrame,
    payers: pl.DataFrame,
    medication_claims: pl.Series,
    now: Any,
    notes: dict[str, Any],
) -> pl.DataFrame:
    medical = claims.filter(~pl.col("Id").is_in(medication_claims.implode()))
    visits = encounters.select(
        pl.col("Id").alias("APPOINTMENTID"),
        pl.col("START").alias("__start"),
        pl.col("STOP").alias("__stop"),
        pl.col("PAYER").alias("__encounter_payer"),
        pl.col("ENCOUNTERCLASS").str.strip_chars().str.to_lowercase().alias("__class"),
    )
    header = (
        medical.join(visits, on="APPOINTMENTID", how="left")
        .with_columns(
            pl.coalesce("PRIMARYPATIENTINSURANCEID", "__encounter_payer").alias("__payer_id")
        )
        .join(_payer_names(payers), on="__payer_id", how="left")
    )
    classes = header.get_column("__class")
    notes["claims"] = medical.height
    notes["claims_without_encounter"] = int(classes.is_null().sum())
    notes["encounter_classes"] = {
        str(c): int(n) for c, n in classes.value_counts().sort("__class").iter_rows()
    }
    notes["encounter_classes_not_mapped"] = sorted(
        {str(c) for c in classes.drop_nulls().to_list()} - set(ENCOUNTER_CLASSES)
    )

    def by_class(position: int, default: str | None) -> pl.Expr:
        mapping = {k: v[position] for k, v in ENCOUNTER_CLASSES.items()}
        return pl.col("__class").replace_strict(mapping, default=default, return_dtype=pl.String)

    start = pl.coalesce(_day("__start"), _day("SERVICEDATE"))
    stay = pl.col("__class").is_in(_STAYS)
    header = header.select(
        pl.col("Id").alias("claim_id"),
        by_class(0, "professional").alias("claim_type"),
        pl.col("PATIENTID").alias("person_id"),
        pl.col("__payer").alias("payer"),
        pl.col("__payer").alias("plan"),
        start.alias("claim_start_date"),
        pl.coalesce(_stop("__stop", "__start"), start).alias("claim_end_date"),
        pl.when(stay).then(start).alias("admission_date"),
        pl.when(stay).then(pl.coalesce(_stop("__stop", "__start"), start)).alias("discharge_date"),
        by_class(3, None).alias("place_of_service_code"),
        by_class(1, None).alias("bill_type_code"),
        by_class(2, None).alias("revenue_center_code"),
    )
    frame = (
        header.join(lines, on="claim_id", how="inner")
        .sort("claim_id", "claim_line_number")
        .select(
            "claim_id",
            "claim_line_number",
            "claim_type",
            "person_id",
            "payer",
            "plan",
            "claim_start_date",
            "claim_end_date",
            _day("from").alias("claim_line_start_date"),
            _stop("to", "from").alias("claim_line_end_date"),
            "admission_date",
            "discharge_date",
            "place_of_service_code",
            "bill_type_code",
            "revenue_center_code",
            pl.col("units").alias("service_unit_quantity"),
            *_amounts(),
            *_file_columns("claims_transactions.csv", now),
        )
    )
    notes["lines"] = frame.height
    notes["charges_on_claims_not_in_claims_csv"] = lines.join(
        claims.select(pl.col("Id").alias("claim_id")), on="claim_id", how="anti"
    ).height
    notes["line_end_dates_at_unix_epoch_set_to_line_start"] = int(
        lines.join(header.select("claim_id"), on="claim_id", how="semi")
        .select((_day("to") == _EPOCH).sum())
        .item()
    )
    notes["claims_without_charges"] = medical.join(
        lines, left_on="Id", right_on="claim_id", how="anti"
    ).height
    notes["procedure_codes_not_hcpcs"] = {
        "count": int(
            lines.join(header.select("claim_id"), on="claim_id", how="semi")
            .get_column("procedure")
            .is_not_null()
            .sum()
        ),
        "why": "charge lines carry SNOMED CT (and CVX) codes, not HCPCS/CPT: hcpcs_code is null",
    }
    notes["paid_amount"] = (
        "payments by the primary insurer; total_cost_amount adds the secondary insurer's and "
        "the patient's payments; allowed_amount is the charge less adjustments"
    )
    return tuva_frame(frame, "medical_claim").collect()


# --------------------------------------------------------------------------------------------
# Medications: pharmacy claims
# --------------------------------------------------------------------------------------------
def _medication_claims(
    claims: pl.DataFrame, lines: pl.DataFrame, medications: pl.DataFrame
) -> pl.DataFrame:
    """Claims whose every charge is a drug prescribed at that encounter, with their totals."""
    prescribed = medications.select(
        pl.col("ENCOUNTER").alias("APPOINTMENTID"), pl.col("CODE").alias("procedure")
    ).unique()
    charges = lines.join(
        claims.select(pl.col("Id").alias("claim_id"), "APPOINTMENTID", "SERVICEDATE"),
        on="claim_id",
        how="inner",
    ).join(
        prescribed.with_columns(pl.lit(True).alias("__drug")),
        on=["APPOINTMENTID", "procedure"],
        how="left",
    )
    return (
        charges.group_by("claim_id", maintain_order=True)
        .agg(
            pl.col("__drug").fill_null(False).all().alias("__all_drugs"),
            pl.col("APPOINTMENTID").first(),
            pl.col("SERVICEDATE").first(),
            pl.col("procedure").first().alias("CODE"),
            pl.col("charge").cast(pl.Float64, strict=False).sum().alias("charge"),
            *(
                pl.col(c).sum()
                for c in ("primary_paid", "secondary_paid", "patient_paid", "copay", "adjustments")
            ),
        )
        .filter(pl.col("__all_drugs"))
        .drop("__all_drugs")
    )


def _pharmacy(
    medications: pl.DataFrame,
    drug_claims: pl.DataFrame,
    payers: pl.DataFrame,
    now: Any,
    notes: dict[str, Any],
) -> pl.DataFrame:
    """One pharmacy claim per medications.csv row, paired with its claim by encounter and code.

    When an encounter prescribes the same drug twice, the n-th prescription (by START) pairs
    with the n-th such claim (by SERVICEDATE).
    """
    meds = medications.with_row_index("__src").with_columns(
        (pl.col("START").rank("ordinal").over("ENCOUNTER", "CODE") - 1).alias("__nth")
    )
    bills = drug_claims.with_columns(
        (pl.col("SERVICEDATE").rank("ordinal").over("APPOINTMENTID", "CODE") - 1).alias("__nth")
    ).rename({"APPOINTMENTID": "ENCOUNTER"})
    paired = meds.join(bills, on=["ENCOUNTER", "CODE", "__nth"], how="left").sort("__src")
    matched = pl.col("claim_id").is_not_null()
    notes["rows"] = medications.height
    notes["without_a_claim"] = int(paired.get_column("claim_id").is_null().sum())
    notes["ndc_code"] = "null: Synthea codes drugs in RxNorm, which is not NDC"
    notes["quantity_and_days_supply"] = "null: not in Synthea's medications.csv"
    notes["refills"] = "DISPENSES - 1 (Synthea bills the first dispense on the claim)"
    dispenses = pl.col("DISPENSES").str.strip_chars().cast(pl.Int64, strict=False)
    frame = paired.join(
        _payer_names(payers).rename({"__payer_id": "PAYER"}), on="PAYER", how="left"
    ).select(
        pl.when(matched)
        .then(pl.col("claim_id"))
        .otherwise(pl.format("{}-{}-{}", "ENCOUNTER", "CODE", pl.col("__nth") + 1))
        .alias("claim_id"),
        pl.lit(1, dtype=pl.Int32).alias("claim_line_number"),
        pl.col("PATIENT").alias("person_id"),
        pl.col("__payer").alias("payer"),
        pl.col("__payer").alias("plan"),
        _day("START").alias("dispensing_date"),
        (dispenses - 1).clip(lower_bound=0).alias("refills"),
        pl.when(matched)
        .then(pl.col("charge"))
        .otherwise(_money("BASE_COST"))
        .alias("charge_amount"),
        pl.when(matched)
        .then(pl.col("charge") - pl.col("adjustments"))
        .otherwise(_money("BASE_COST"))
        .alias("allowed_amount"),
        pl.when(matched)
        .then(pl.col("primary_paid"))
        .otherwise(_money("PAYER_COVERAGE"))
        .alias("paid_amount"),
        pl.when(matched).then(pl.col("copay")).alias("copayment_amount"),
        *_file_columns("medications.csv", now),
    )
    return tuva_frame(frame, "pharmacy_claim").collect()


# --------------------------------------------------------------------------------------------
# convert
# --------------------------------------------------------------------------------------------
def convert(input_dir: Path) -> Converted:
    """The three input-layer tables from the Synthea CSV files in `input_dir`."""
    input_dir = require_folder(input_dir)
    now = ingest_time()
    files: dict[str, Any] = {"used": [], "missing": [], "unusable": []}
    notes: dict[str, Any] = {"source_format": "Synthea CSV export", "files": files}
    read = {name: _read(input_dir, name, files) for name in REQUIRED}
    if all(frame is None for frame in read.values()):
        raise LoaderError(f"{input_dir} holds none of Synthea's CSV files ({', '.join(REQUIRED)})")
    patients, payers = read["patients"], read["payers"]
    transitions, encounters = read["payer_transitions"], read["encounters"]
    claims, transactions = read["claims"], read["claims_transactions"]
    medications, conditions = read["medications"], read["conditions"]
    if payers is None:
        payers = pl.DataFrame(schema={c: pl.String for c in ("Id", "NAME", "OWNERSHIP")})

    eligibility = empty_table("eligibility")
    if patients is not None and transitions is not None:
        notes["eligibility"] = {}
        eligibility = _eligibility(patients, payers, transitions, now, notes["eligibility"])

    medical_claim = empty_table("medical_claim")
    pharmacy_claim = empty_table("pharmacy_claim")
    if claims is not None and transactions is not None:
        notes["claims_transactions"] = {}
        lines = _charge_lines(transactions, notes["claims_transactions"])
        drug_claims = (
            _medication_claims(claims, lines, medications)
            if medications is not None
            else pl.DataFrame(schema={"claim_id": pl.String})
        )
        if encounters is None:
            encounters = pl.DataFrame(schema={c: pl.String for c in REQUIRED["encounters"]})
        notes["medical_claim"] = {}
        medical_claim = _medical(
            claims,
            encounters,
            lines,
            payers,
            drug_claims.get_column("claim_id"),
            now,
            notes["medical_claim"],
        )
        if medications is not None:
            notes["pharmacy_claim"] = {}
            pharmacy_claim = _pharmacy(
                medications, drug_claims, payers, now, notes["pharmacy_claim"]
            )

    diagnoses = (
        pl.concat([claims.get_column(f"DIAGNOSIS{i}") for i in range(1, 9)]).drop_nulls()
        if claims is not None
        else pl.Series([], dtype=pl.String)
    )
    notes["diagnoses"] = {
        "code_system": "SNOMED CT",
        "claim_diagnosis_codes": diagnoses.len(),
        "distinct_claim_diagnosis_codes": diagnoses.n_unique(),
        "conditions_rows": conditions.height if conditions is not None else 0,
        "distinct_condition_codes": (
            conditions.get_column("CODE").n_unique() if conditions is not None else 0
        ),
        "in_the_input_layer": (
            "none: diagnosis_code_type and diagnosis_code_1..25 stay null because SNOMED CT "
            "codes are not ICD-10-CM; CMS-HCC/HHS-HCC risk scores need a licensed SNOMED CT to "
            "ICD-10-CM map first"
        ),
    }
    notes["providers"] = "Synthea providers have no NPI: rendering/billing/facility NPIs are null"
    return Converted(
        tables={
            "eligibility": eligibility,
            "medical_claim": medical_claim,
            "pharmacy_claim": pharmacy_claim,
        },
        notes=notes,
    )
