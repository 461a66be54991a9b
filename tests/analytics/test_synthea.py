"""The Synthea loader on a real Synthea CSV export, reconciled with the export's own files."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from caseboard.analytics.load import load
from caseboard.analytics.quality import DataQualityReport

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "synthea-csv-sample"


@dataclass
class Loaded:
    report: DataQualityReport
    out: Path

    def all_rows(self, table: str, *columns: str) -> pl.DataFrame:
        """Accepted and rejected rows together, the given columns as text."""
        return pl.concat(
            [
                pl.read_parquet(self.out / f"{table}.parquet").select(
                    pl.col(c).cast(pl.String) for c in columns
                ),
                pl.read_parquet(self.out / f"rejected_{table}.parquet").select(
                    pl.col(c).cast(pl.String) for c in columns
                ),
            ]
        )


def _rows(name: str) -> list[dict[str, str]]:
    with (SAMPLE / f"{name}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def synthea(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    if not SAMPLE.is_dir():
        pytest.fail(f"shared sample data missing at {SAMPLE}")
    out = tmp_path_factory.mktemp("synthea")
    return Loaded(load("synthea", SAMPLE, out), out)


def test_every_patient_gets_eligibility(synthea: Loaded) -> None:
    patients = {row["Id"] for row in _rows("patients")}
    eligibility = pl.read_parquet(synthea.out / "eligibility.parquet")

    assert set(eligibility.get_column("person_id")) == patients
    assert synthea.report.tables["eligibility"].rows_rejected == 0
    assert synthea.report.notes["eligibility"]["patients_without_eligibility"] == []


def test_spans_come_from_payer_transitions_without_the_uninsured_ones(synthea: Loaded) -> None:
    payers = {row["Id"]: row["NAME"] for row in _rows("payers")}
    insured = [r for r in _rows("payer_transitions") if payers[r["PAYER"]] != "NO_INSURANCE"]
    eligibility = pl.read_parquet(synthea.out / "eligibility.parquet")

    expected = sorted(
        (r["PATIENT"], r["START_DATE"][:10], r["END_DATE"][:10], payers[r["PAYER"]])
        for r in insured
    )
    got = sorted(
        (p, s.isoformat(), e.isoformat(), payer)
        for p, s, e, payer in eligibility.select(
            "person_id", "enrollment_start_date", "enrollment_end_date", "payer"
        ).rows()
    )
    assert got == expected
    assert synthea.report.notes["eligibility"]["no_insurance_rows_left_out"] == 5


def test_claim_charges_reconcile_with_the_source_claims(synthea: Loaded) -> None:
    charges: dict[str, Decimal] = defaultdict(Decimal)
    lines: dict[str, int] = defaultdict(int)
    for row in _rows("claims_transactions"):
        if row["TYPE"] == "CHARGE":
            charges[row["CLAIMID"]] += Decimal(row["AMOUNT"])
            lines[row["CLAIMID"]] += 1
    claim_ids = {row["Id"] for row in _rows("claims")}

    medical = synthea.all_rows("medical_claim", "claim_id", "charge_amount")
    pharmacy = synthea.all_rows("pharmacy_claim", "claim_id", "charge_amount")
    loaded: dict[str, Decimal] = defaultdict(Decimal)
    for claim_id, amount in [*medical.rows(), *pharmacy.rows()]:
        loaded[claim_id] += Decimal(amount).quantize(Decimal("0.01"))

    assert set(loaded) == claim_ids  # every claim, medical or pharmacy, and nothing else
    assert loaded == charges
    per_claim = medical.group_by("claim_id").len()
    assert dict(per_claim.iter_rows()) == {k: lines[k] for k in per_claim.get_column("claim_id")}


def _drug_claims() -> set[str]:
    """Claims all of whose charges are drugs prescribed at their encounter (medications.csv)."""
    prescribed = {(r["ENCOUNTER"], r["CODE"]) for r in _rows("medications")}
    appointment = {r["Id"]: r["APPOINTMENTID"] for r in _rows("claims")}
    drug: dict[str, bool] = {}
    for t in _rows("claims_transactions"):
        if t["TYPE"] == "CHARGE":
            is_drug = (appointment[t["CLAIMID"]], t["PROCEDURECODE"]) in prescribed
            drug[t["CLAIMID"]] = drug.get(t["CLAIMID"], True) and is_drug
    return {claim for claim, all_drugs in drug.items() if all_drugs}


def test_payments_reconcile_and_paid_is_the_primary_insurers_share(synthea: Loaded) -> None:
    drugs = _drug_claims()
    transactions = _rows("claims_transactions")
    payments: dict[str, Decimal] = defaultdict(Decimal)
    insurer: dict[str, Decimal] = defaultdict(Decimal)
    # Claims whose balance ever left the primary insurer: handed on, or billed to the patient.
    handed_on = {
        t["CLAIMID"]
        for t in transactions
        if t["TYPE"] == "TRANSFERIN" or (t["TYPE"] == "CHARGE" and t["TRANSFERTYPE"] != "1")
    }
    for t in transactions:
        if t["TYPE"] == "PAYMENT":
            payments[t["CLAIMID"]] += Decimal(t["PAYMENTS"])
            if t["METHOD"] != "COPAY":
                insurer[t["CLAIMID"]] += Decimal(t["PAYMENTS"])
    medical = synthea.all_rows("medical_claim", "claim_id", "paid_amount", "total_cost_amount")
    medical = medical.with_columns(pl.col("paid_amount", "total_cost_amount").cast(pl.Float64))
    totals = medical.group_by("claim_id").agg(pl.col("paid_amount", "total_cost_amount").sum())

    # Everything paid on a medical claim, by anyone, is in total_cost_amount.
    assert round(totals.get_column("total_cost_amount").sum(), 2) == float(
        sum(v for k, v in payments.items() if k not in drugs)
    )
    # On a claim its primary insurer kept to the end, the insurer paid all but copays.
    kept = totals.filter(~pl.col("claim_id").is_in(list(handed_on)))
    assert kept.height > 0
    for claim_id, paid, _ in kept.rows():
        assert round(paid, 2) == float(insurer[claim_id]), claim_id
    assert (medical.get_column("paid_amount") <= medical.get_column("total_cost_amount")).all()
    assert drugs == set(synthea.all_rows("pharmacy_claim", "claim_id").get_column("claim_id"))


def test_encounter_class_decides_claim_type_and_bill_type(synthea: Loaded) -> None:
    encounter_class = {r["Id"]: r["ENCOUNTERCLASS"] for r in _rows("encounters")}
    claim_class = {r["Id"]: encounter_class[r["APPOINTMENTID"]] for r in _rows("claims")}
    medical = synthea.all_rows(
        "medical_claim",
        "claim_id",
        "claim_type",
        "bill_type_code",
        "revenue_center_code",
        "place_of_service_code",
    ).unique()

    seen = {
        (claim_class[claim_id], claim_type, bill, revenue, pos)
        for claim_id, claim_type, bill, revenue, pos in medical.rows()
    }
    assert ("emergency", "institutional", "131", "0450", None) in seen
    assert ("inpatient", "institutional", "111", None, None) in seen
    assert ("wellness", "professional", None, None, "11") in seen
    assert ("ambulatory", "professional", None, None, "11") in seen
    assert {row[0] for row in seen} == set(encounter_class.values())
    assert all(
        claim_type == "institutional"
        for cls, claim_type, *_ in seen
        if cls in ("inpatient", "emergency")
    )


def test_snomed_diagnoses_never_land_in_icd10_columns(synthea: Loaded) -> None:
    medical = pl.read_parquet(synthea.out / "medical_claim.parquet")

    assert medical.get_column("diagnosis_code_type").null_count() == medical.height
    assert medical.get_column("diagnosis_code_1").null_count() == medical.height
    assert medical.get_column("hcpcs_code").null_count() == medical.height
    claims = _rows("claims")
    snomed = [r[f"DIAGNOSIS{i}"] for r in claims for i in range(1, 9) if r[f"DIAGNOSIS{i}"]]
    notes = synthea.report.notes["diagnoses"]
    assert notes["code_system"] == "SNOMED CT"
    assert notes["claim_diagnosis_codes"] == len(snomed)
    assert notes["conditions_rows"] == len(_rows("conditions"))


def test_medications_become_pharmacy_claims_without_ndc(synthea: Loaded) -> None:
    medications = _rows("medications")
    pharmacy = synthea.all_rows("pharmacy_claim", "person_id", "dispensing_date", "ndc_code")

    assert pharmacy.height == len(medications)
    assert pharmacy.get_column("ndc_code").null_count() == len(medications)
    assert sorted(pharmacy.select("person_id", "dispensing_date").rows()) == sorted(
        (m["PATIENT"], m["START"][:10]) for m in medications
    )
    assert synthea.report.notes["pharmacy_claim"]["without_a_claim"] == 0
    assert "RxNorm" in synthea.report.notes["pharmacy_claim"]["ndc_code"]


def test_claims_before_the_first_payer_transition_are_rejected_as_uncovered(
    synthea: Loaded,
) -> None:
    reasons = synthea.report.tables["medical_claim"].rejected_by_reason
    assert set(reasons) == {"claim_start_date: is outside every eligibility span of the person"}
    first_span: dict[str, str] = {}
    for r in _rows("payer_transitions"):
        first_span[r["PATIENT"]] = min(first_span.get(r["PATIENT"], "9999"), r["START_DATE"][:10])
    rejected = pl.read_parquet(synthea.out / "rejected_medical_claim.parquet")
    early = [
        (p, d)
        for p, d in rejected.select("person_id", "claim_start_date").rows()
        if d < first_span[p]
    ]
    assert early  # Synthea's payer history starts years after its first encounters
