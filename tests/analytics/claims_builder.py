"""Tiny hand-made input-layer tables for mart tests: every Tuva column, most of them null."""

from __future__ import annotations

import datetime
from typing import Any

import ibis
import polars as pl

from caseboard.analytics.input_layer import polars_schema


def frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = polars_schema(table)
    for row in rows:
        unknown = set(row) - set(schema)
        assert not unknown, f"not {table} columns: {unknown}"
    return pl.DataFrame(
        [{c: row.get(c) for c in schema} for row in rows], schema=schema, orient="row"
    )


def table(name: str, rows: list[dict[str, Any]]) -> ibis.Table:
    return ibis.memtable(frame(name, rows).to_arrow())


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def span(person: str, start: str, end: str | None) -> dict[str, Any]:
    return {
        "person_id": person,
        "member_id": person,
        "payer": "Plan",
        "plan": "MassHealth ACO",
        "enrollment_start_date": d(start),
        "enrollment_end_date": d(end) if end else None,
    }


def inpatient(
    person: str,
    claim: str,
    admit: str,
    discharge: str,
    paid: float,
    disposition: str = "01",
    line: int = 1,
) -> dict[str, Any]:
    return {
        "claim_id": claim,
        "claim_line_number": line,
        "claim_type": "institutional",
        "person_id": person,
        "bill_type_code": "111",
        "revenue_center_code": "0120",
        "claim_start_date": d(admit),
        "claim_end_date": d(discharge),
        "admission_date": d(admit),
        "discharge_date": d(discharge),
        "discharge_disposition_code": disposition,
        "diagnosis_code_type": "icd-10-cm",
        "diagnosis_code_1": "I5023",
        "paid_amount": paid,
    }


def ed_facility(person: str, claim: str, day: str, paid: float) -> dict[str, Any]:
    return {
        "claim_id": claim,
        "claim_line_number": 1,
        "claim_type": "institutional",
        "person_id": person,
        "bill_type_code": "131",
        "revenue_center_code": "0450",
        "hcpcs_code": "99284",
        "claim_start_date": d(day),
        "claim_end_date": d(day),
        "diagnosis_code_type": "icd-10-cm",
        "diagnosis_code_1": "J45901",
        "paid_amount": paid,
    }


def office(person: str, claim: str, day: str, paid: float, cpt: str = "99214") -> dict[str, Any]:
    return {
        "claim_id": claim,
        "claim_line_number": 1,
        "claim_type": "professional",
        "person_id": person,
        "place_of_service_code": "11",
        "hcpcs_code": cpt,
        "claim_start_date": d(day),
        "claim_end_date": d(day),
        "diagnosis_code_type": "icd-10-cm",
        "diagnosis_code_1": "E119",
        "paid_amount": paid,
    }


def fill(person: str, claim: str, day: str, paid: float) -> dict[str, Any]:
    return {
        "claim_id": claim,
        "claim_line_number": 1,
        "person_id": person,
        "dispensing_date": d(day),
        "paid_date": d(day),
        "ndc_code": "00093104801",
        "days_supply": 30,
        "paid_amount": paid,
    }
