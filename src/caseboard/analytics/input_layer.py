"""The Tuva Project input layer: table and column names every loader writes and every mart reads."""

from __future__ import annotations

import polars as pl

# Source: tuva-health/tuva, models/input_layer/input_layer__eligibility.yml,
# input_layer__medical_claim.yml and input_layer__pharmacy_claim.yml (main at commit 6be34c7,
# May 2026): every column in the order listed there, with its `meta.data_type`. Five eligibility
# columns carry no data_type in that file (medicare_status_code, enrollment_status, hospice_flag,
# institutional_snp_flag, long_term_institutional_flag); their types are the ones
# models/core/staging/core__stg_claims_eligibility.sql casts them to (string, string, int x3).
_REPEATED = range(1, 26)
_TUVA_SCHEMA: dict[str, tuple[tuple[str, str], ...]] = {
    "eligibility": (
        ("person_id", "varchar"),
        ("member_id", "varchar"),
        ("subscriber_id", "varchar"),
        ("gender", "varchar"),
        ("race", "varchar"),
        ("birth_date", "date"),
        ("death_date", "date"),
        ("death_flag", "boolean"),
        ("enrollment_start_date", "date"),
        ("enrollment_end_date", "date"),
        ("payer", "varchar"),
        ("payer_type", "varchar"),
        ("plan", "varchar"),
        ("original_reason_entitlement_code", "varchar"),
        ("dual_status_code", "varchar"),
        ("medicare_status_code", "varchar"),
        ("enrollment_status", "varchar"),
        ("hospice_flag", "integer"),
        ("institutional_snp_flag", "integer"),
        ("long_term_institutional_flag", "integer"),
        ("group_id", "varchar"),
        ("group_name", "varchar"),
        ("name_suffix", "varchar"),
        ("first_name", "varchar"),
        ("middle_name", "varchar"),
        ("last_name", "varchar"),
        ("social_security_number", "varchar"),
        ("subscriber_relation", "varchar"),
        ("address", "varchar"),
        ("city", "varchar"),
        ("state", "varchar"),
        ("zip_code", "varchar"),
        ("phone", "varchar"),
        ("email", "varchar"),
        ("ethnicity", "varchar"),
        ("data_source", "varchar"),
        ("file_name", "varchar"),
        ("file_date", "date"),
        ("ingest_datetime", "timestamp"),
    ),
    "medical_claim": (
        ("claim_id", "varchar"),
        ("claim_line_number", "integer"),
        ("claim_type", "varchar"),
        ("person_id", "varchar"),
        ("member_id", "varchar"),
        ("payer", "varchar"),
        ("plan", "varchar"),
        ("claim_start_date", "date"),
        ("claim_end_date", "date"),
        ("claim_line_start_date", "date"),
        ("claim_line_end_date", "date"),
        ("admission_date", "date"),
        ("discharge_date", "date"),
        ("admit_source_code", "varchar"),
        ("admit_type_code", "varchar"),
        ("discharge_disposition_code", "varchar"),
        ("place_of_service_code", "varchar"),
        ("bill_type_code", "varchar"),
        ("drg_code_type", "varchar"),
        ("drg_code", "varchar"),
        ("revenue_center_code", "varchar"),
        ("service_unit_quantity", "number"),
        ("hcpcs_code", "varchar"),
        ("hcpcs_modifier_1", "varchar"),
        ("hcpcs_modifier_2", "varchar"),
        ("hcpcs_modifier_3", "varchar"),
        ("hcpcs_modifier_4", "varchar"),
        ("hcpcs_modifier_5", "varchar"),
        ("rendering_npi", "varchar"),
        ("rendering_tin", "varchar"),
        ("billing_npi", "varchar"),
        ("billing_tin", "varchar"),
        ("facility_npi", "varchar"),
        ("paid_date", "date"),
        ("paid_amount", "float"),
        ("allowed_amount", "float"),
        ("charge_amount", "float"),
        ("coinsurance_amount", "float"),
        ("copayment_amount", "float"),
        ("deductible_amount", "float"),
        ("total_cost_amount", "float"),
        ("diagnosis_code_type", "varchar"),
        *((f"diagnosis_code_{i}", "varchar") for i in _REPEATED),
        *((f"diagnosis_poa_{i}", "varchar") for i in _REPEATED),
        ("procedure_code_type", "varchar"),
        *((f"procedure_code_{i}", "varchar") for i in _REPEATED),
        *((f"procedure_date_{i}", "date") for i in _REPEATED),
        ("in_network_flag", "boolean"),
        ("data_source", "varchar"),
        ("file_name", "varchar"),
        ("file_date", "date"),
        ("ingest_datetime", "timestamp"),
    ),
    "pharmacy_claim": (
        ("claim_id", "varchar"),
        ("claim_line_number", "integer"),
        ("person_id", "varchar"),
        ("member_id", "varchar"),
        ("payer", "varchar"),
        ("plan", "varchar"),
        ("prescribing_provider_npi", "varchar"),
        ("dispensing_provider_npi", "varchar"),
        ("dispensing_date", "date"),
        ("ndc_code", "varchar"),
        ("quantity", "integer"),
        ("days_supply", "integer"),
        ("refills", "integer"),
        ("paid_date", "date"),
        ("paid_amount", "float"),
        ("allowed_amount", "float"),
        ("charge_amount", "float"),
        ("coinsurance_amount", "float"),
        ("copayment_amount", "float"),
        ("deductible_amount", "float"),
        ("in_network_flag", "boolean"),
        ("data_source", "varchar"),
        ("file_name", "varchar"),
        ("file_date", "date"),
        ("ingest_datetime", "timestamp"),
    ),
}

TUVA_COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(name for name, _ in columns) for table, columns in _TUVA_SCHEMA.items()
}
"""Every column of the Tuva input layer tables we produce, in Tuva's order."""

TUVA_TYPES: dict[str, dict[str, str]] = {
    table: dict(columns) for table, columns in _TUVA_SCHEMA.items()
}
"""Tuva's declared data_type for each of those columns (varchar, date, integer, ...)."""

TABLES = ("eligibility", "medical_claim", "pharmacy_claim")

POLARS_TYPES: dict[str, pl.DataType] = {
    "varchar": pl.String(),
    "date": pl.Date(),
    "boolean": pl.Boolean(),
    "timestamp": pl.Datetime("us"),
    "integer": pl.Int32(),
    "number": pl.Float64(),
    "float": pl.Float64(),
}
"""The polars type that holds each of Tuva's declared data types."""


def polars_schema(table: str) -> dict[str, pl.DataType]:
    """Every column of an input-layer table with its polars type, in Tuva's order."""
    return {name: POLARS_TYPES[kind] for name, kind in TUVA_TYPES[table].items()}
