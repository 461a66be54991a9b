"""The synthetic population: Tuva-shaped, valid codes and identifiers, internally consistent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
import simple_icd_10_cm as icd

from caseboard.analytics.input_layer import TUVA_COLUMNS, TUVA_TYPES
from caseboard.demo.population import ICD10_CM_CODES, Population, generate, write

MEMBERS = 2_000
SEED = 20260930

# Tuva's declared types -> the polars type a reader of our parquet must find.
EXPECTED_TYPES = {
    "varchar": pl.String,
    "date": pl.Date,
    "boolean": pl.Boolean,
    "timestamp": pl.Datetime("us"),
    "integer": pl.Int32,
    "number": pl.Float64,
    "float": pl.Float64,
}


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(MEMBERS, seed=SEED)


def luhn_ok(digits: str) -> bool:
    """Plain Luhn check over a full digit string whose last digit is the check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def test_same_seed_gives_equal_frames_and_another_seed_does_not(population: Population) -> None:
    again = generate(MEMBERS, seed=SEED)
    other = generate(MEMBERS, seed=SEED + 1)
    assert again.tables.keys() == population.tables.keys()
    for name, frame in population.tables.items():
        assert frame.equals(again.tables[name]), name
    assert not population.tables["members"].equals(other.tables["members"])
    assert not population.tables["medical_claim"].equals(other.tables["medical_claim"])


def test_every_table_is_present(population: Population) -> None:
    assert set(population.tables) == {
        "eligibility",
        "medical_claim",
        "pharmacy_claim",
        "practices",
        "providers",
        "members",
        "attribution",
    }
    assert population.tables["members"].height == MEMBERS


@pytest.mark.parametrize("table", ["eligibility", "medical_claim", "pharmacy_claim"])
def test_tuva_tables_have_exactly_tuvas_columns_in_order_and_type(
    population: Population, table: str
) -> None:
    frame = population.tables[table]
    assert tuple(frame.columns) == TUVA_COLUMNS[table]
    for column, kind in TUVA_TYPES[table].items():
        assert frame.schema[column] == EXPECTED_TYPES[kind], (column, kind)


def test_tuva_column_lists_match_the_published_layer() -> None:
    # Spot checks against the Tuva input layer: counts and a few landmark positions.
    assert len(TUVA_COLUMNS["eligibility"]) == 39
    assert len(TUVA_COLUMNS["medical_claim"]) == 148
    assert len(TUVA_COLUMNS["pharmacy_claim"]) == 25
    assert TUVA_COLUMNS["medical_claim"][:3] == ("claim_id", "claim_line_number", "claim_type")
    assert TUVA_COLUMNS["medical_claim"][-5:] == (
        "in_network_flag",
        "data_source",
        "file_name",
        "file_date",
        "ingest_datetime",
    )
    assert "diagnosis_code_25" in TUVA_COLUMNS["medical_claim"]
    assert TUVA_COLUMNS["eligibility"][0] == "person_id"


def test_every_icd10_code_in_the_lists_and_the_claims_is_valid_and_billable(
    population: Population,
) -> None:
    claims = population.tables["medical_claim"]
    dx_columns = [c for c in claims.columns if c.startswith("diagnosis_code_") and c[-1].isdigit()]
    used = (
        claims.select(pl.concat_list(dx_columns).explode().drop_nulls().unique())
        .to_series()
        .to_list()
    )
    assert len(used) > 50
    for code in sorted(set(used) | set(ICD10_CM_CODES)):
        assert icd.is_valid_item(code) and icd.is_leaf(code), code
    assert claims["diagnosis_code_type"].unique().to_list() == ["icd-10-cm"]
    assert not any("." in code for code in used), "the input layer writes codes without the dot"


def test_social_needs_are_coded_with_z_codes(population: Population) -> None:
    claims = population.tables["medical_claim"]
    members = population.tables["members"]
    dx = pl.concat_list([f"diagnosis_code_{i}" for i in range(1, 26)])
    with_food_code = (
        claims.filter(dx.list.contains("Z5941") | dx.list.contains("Z5948"))
        .select("person_id")
        .unique()
    )
    food = members.filter("food_insecurity").select("person_id")
    assert with_food_code.height > 0
    assert with_food_code.join(food, on="person_id", how="anti").height == 0


def test_every_npi_has_ten_digits_a_valid_check_digit_and_is_known(
    population: Population,
) -> None:
    providers = population.tables["providers"]
    practices = population.tables["practices"]
    directory = pl.concat([providers["npi"], practices["npi"]])
    assert directory.n_unique() == directory.len()
    claims = population.tables["medical_claim"]
    pharmacy = population.tables["pharmacy_claim"]
    on_claims = (
        pl.concat(
            [
                claims["rendering_npi"],
                claims["billing_npi"],
                claims["facility_npi"],
                pharmacy["prescribing_provider_npi"],
                pharmacy["dispensing_provider_npi"],
                population.tables["attribution"]["pcp_npi"],
            ]
        )
        .drop_nulls()
        .unique()
    )
    assert set(on_claims.to_list()) <= set(directory.to_list())
    for npi in directory.to_list():
        assert len(npi) == 10 and npi.isdigit(), npi
        assert luhn_ok("80840" + npi), npi


def test_providers_have_pcps_in_every_practice_and_named_facilities(
    population: Population,
) -> None:
    providers = population.tables["providers"]
    practices = population.tables["practices"]
    pcps = providers.filter(pl.col("role") == "pcp")
    per_practice = pcps.group_by("practice_id").len()
    real = practices.filter(pl.col("kind") == "practice")
    assert per_practice.height == real.height
    assert per_practice["len"].is_between(3, 8).all()
    assert practices.filter(pl.col("kind") == "cbcme").height == 1
    assert set(pcps["credential"].unique().to_list()) <= {"MD", "DO", "NP", "PA"}
    facilities = providers.filter(pl.col("role") == "facility")
    assert facilities["name"].null_count() == 0 and facilities.height > 0
    assert providers.filter(pl.col("role") != "pcp")["practice_id"].null_count() == (
        providers.filter(pl.col("role") != "pcp").height
    )


def _spans(population: Population) -> pl.DataFrame:
    return population.tables["eligibility"].select(
        "person_id", "enrollment_start_date", "enrollment_end_date"
    )


def _outside_spans(
    population: Population, events: pl.DataFrame, start: str, end: str
) -> pl.DataFrame:
    """Events (with an `event` id) that no single eligibility span of the member contains."""
    inside = (
        events.join(_spans(population), on="person_id")
        .filter(
            (pl.col(start) >= pl.col("enrollment_start_date"))
            & (pl.col(end) <= pl.col("enrollment_end_date"))
        )
        .select("event")
        .unique()
    )
    return events.join(inside, on="event", how="anti")


def test_every_claim_lies_inside_one_eligibility_span(population: Population) -> None:
    claims = population.tables["medical_claim"].with_row_index("event")
    assert _outside_spans(population, claims, "claim_start_date", "claim_end_date").height == 0
    assert (
        _outside_spans(population, claims, "claim_line_start_date", "claim_line_end_date").height
        == 0
    )
    assert claims.filter(pl.col("claim_line_start_date") < pl.col("claim_start_date")).is_empty()
    assert claims.filter(pl.col("claim_line_end_date") > pl.col("claim_end_date")).is_empty()
    rx = population.tables["pharmacy_claim"].with_row_index("event")
    assert _outside_spans(population, rx, "dispensing_date", "dispensing_date").height == 0


def test_amounts_are_non_negative_and_present(population: Population) -> None:
    for table in ("medical_claim", "pharmacy_claim"):
        frame = population.tables[table]
        for column in ("paid_amount", "allowed_amount", "charge_amount"):
            assert frame[column].null_count() == 0, (table, column)
            assert (frame[column] >= 0).all(), (table, column)
        assert (frame["charge_amount"] >= frame["allowed_amount"]).all()


def test_some_members_lose_coverage_before_as_of(population: Population) -> None:
    last_end = (
        population.tables["eligibility"]
        .group_by("person_id")
        .agg(pl.col("enrollment_end_date").max())
    )
    lost = last_end.filter(pl.col("enrollment_end_date") < population.as_of).height / MEMBERS
    assert 0.03 <= lost <= 0.10
    spans = population.tables["eligibility"].group_by("person_id").len()["len"]
    assert spans.min() == 1 and spans.max() == 3


def test_some_members_change_pcp(population: Population) -> None:
    attribution = population.tables["attribution"]
    spans = attribution.group_by("person_id").len()
    changed = spans.filter(pl.col("len") == 2).height / MEMBERS
    assert 0.02 <= changed <= 0.08
    assert spans["len"].max() == 2
    # The first span ends the day before the second starts; the current span is open.
    pairs = attribution.join(spans.filter(pl.col("len") == 2), on="person_id").sort(
        "person_id", "start_date"
    )
    first = pairs.group_by("person_id", maintain_order=True).first()
    second = pairs.group_by("person_id", maintain_order=True).last()
    gap = second["start_date"] - first["end_date"]
    assert (gap == timedelta(days=1)).all()


def test_top_one_percent_of_members_carry_a_fifth_of_spending(population: Population) -> None:
    paid = pl.concat(
        [
            population.tables["medical_claim"].select("person_id", "paid_amount"),
            population.tables["pharmacy_claim"].select("person_id", "paid_amount"),
        ]
    )
    per_member = paid.group_by("person_id").agg(pl.col("paid_amount").sum())
    spend = sorted(per_member["paid_amount"].to_list(), reverse=True)
    assert sum(spend[: MEMBERS // 100]) / sum(spend) >= 0.20


def test_about_an_eighth_of_members_have_no_claims_in_the_last_year(
    population: Population,
) -> None:
    since = population.as_of - timedelta(days=365)
    recent = pl.concat(
        [
            population.tables["medical_claim"]
            .filter(pl.col("claim_end_date") > since)
            .select("person_id"),
            population.tables["pharmacy_claim"]
            .filter(pl.col("dispensing_date") > since)
            .select("person_id"),
        ]
    ).unique()
    share = 1 - recent.height / MEMBERS
    assert 0.07 <= share <= 0.18


def test_heavy_patterns_use_more_emergency_and_inpatient_care(population: Population) -> None:
    members = population.tables["members"]
    claims = population.tables["medical_claim"]
    visits = (
        claims.filter(pl.col("bill_type_code").is_in(["111", "131"]))
        .group_by("person_id")
        .agg(pl.col("claim_id").n_unique().alias("visits"))
    )
    rates = members.join(visits, on="person_id", how="left").with_columns(
        pl.col("visits").fill_null(0),
        heavy=pl.col("risk_pattern").str.contains("heart_failure|smi|sud"),
    )
    heavy = rates.filter("heavy")["visits"].to_list()
    healthy = rates.filter(pl.col("risk_pattern") == "healthy")["visits"].to_list()
    assert sum(heavy) / len(heavy) > 3 * sum(healthy) / len(healthy)


def test_one_in_eight_stays_or_more_is_followed_by_a_readmission_within_30_days(
    population: Population,
) -> None:
    stays = (
        population.tables["medical_claim"]
        .filter(pl.col("bill_type_code") == "111")
        .select("person_id", "claim_id", "admission_date", "discharge_date", "drg_code")
        .unique()
        .sort("person_id", "admission_date")
    )
    assert stays["drg_code"].null_count() == 0
    next_admission = pl.col("admission_date").shift(-1).over("person_id")
    within_30 = stays.select(
        (next_admission - pl.col("discharge_date") <= timedelta(days=30)).fill_null(False)
    ).to_series()
    # Independent stays alone land within 30 days for about 5-8% of stays.
    assert within_30.mean() >= 0.12  # type: ignore[operator]
    overlapping = stays.filter(next_admission <= pl.col("discharge_date"))
    assert overlapping.is_empty()  # one bed at a time


def test_institutional_claims_use_tuva_code_formats(population: Population) -> None:
    claims = population.tables["medical_claim"]
    institutional = claims.filter(pl.col("claim_type") == "institutional")
    assert set(institutional["bill_type_code"].unique().to_list()) == {"111", "131"}
    assert institutional["revenue_center_code"].str.len_chars().unique().to_list() == [4]
    assert institutional["place_of_service_code"].null_count() == institutional.height
    ed = institutional.filter(pl.col("bill_type_code") == "131")
    assert "0450" in ed["revenue_center_code"].to_list()
    inpatient = institutional.filter(pl.col("bill_type_code") == "111")
    assert inpatient["drg_code_type"].unique().to_list() == ["ms-drg"]
    assert inpatient["admission_date"].null_count() == 0
    professional = claims.filter(pl.col("claim_type") == "professional")
    assert set(professional["place_of_service_code"].unique().to_list()) <= {"11", "21", "22", "23"}
    assert professional["hcpcs_code"].null_count() == 0


def test_pharmacy_claims_use_11_digit_ndcs_and_standard_supplies(population: Population) -> None:
    rx = population.tables["pharmacy_claim"]
    assert rx["ndc_code"].str.contains(r"^\d{11}$").all()
    assert set(rx["days_supply"].unique().to_list()) <= {30, 90}
    assert (rx["quantity"] > 0).all()


def test_members_speak_many_languages_with_an_english_majority(population: Population) -> None:
    languages = population.tables["members"]["primary_language"].value_counts(sort=True)
    assert languages["primary_language"][0] == "English"
    assert languages["count"][0] / MEMBERS > 0.5
    assert {"Spanish", "Portuguese", "Haitian Creole", "Vietnamese", "Chinese"} <= set(
        languages["primary_language"].to_list()
    )


def test_every_phone_is_a_valid_massachusetts_number(population: Population) -> None:
    phones = pl.concat(
        [population.tables["members"]["phone"], population.tables["practices"]["phone"]]
    ).to_list()
    ma_area_codes = {"617", "508", "413", "781", "978", "339", "774", "857", "351"}
    for phone in phones:
        parsed = phonenumbers.parse(phone, "US")
        assert phonenumbers.is_valid_number(parsed), phone
        assert phone[:3] in ma_area_codes, phone


def test_households_and_twins_make_near_duplicates(population: Population) -> None:
    members = population.tables["members"]
    twins = (
        members.group_by("birth_date", "address", "zip_code")
        .agg(
            pl.col("person_id").n_unique().alias("people"),
            pl.col("first_name").n_unique().alias("first_names"),
        )
        .filter(pl.col("people") > 1)
    )
    assert twins.height > 0
    assert (twins["first_names"] == twins["people"]).all()
    shared_surnames = members.group_by("last_name").len().filter(pl.col("len") > 5)
    assert shared_surnames.height > 0


def test_last_seen_date_is_the_latest_office_visit_with_the_current_practice(
    population: Population,
) -> None:
    t = population.tables
    current = (
        t["attribution"]
        .sort("start_date")
        .group_by("person_id")
        .last()
        .join(t["practices"].select("practice_id", practice_npi="npi"), on="practice_id")
    )
    practice_clinicians = (
        t["providers"].filter(pl.col("role") == "pcp").select("practice_id", rendering_npi="npi")
    )
    visits = (
        t["medical_claim"]
        .filter(
            (pl.col("claim_type") == "professional") & (pl.col("place_of_service_code") == "11")
        )
        .join(current, on="person_id")
        .filter(pl.col("billing_npi") == pl.col("practice_npi"))
        .join(practice_clinicians, on=["practice_id", "rendering_npi"])
        .group_by("person_id")
        .agg(expected=pl.col("claim_start_date").max())
    )
    compared = t["members"].join(visits, on="person_id", how="left")
    assert compared.filter(pl.col("expected").ne_missing(pl.col("last_seen_date"))).is_empty()
    assert compared["last_seen_date"].null_count() > 0  # some never seen
    assert compared["last_seen_date"].null_count() < MEMBERS / 4


def test_health_home_members_point_at_the_cbcme(population: Population) -> None:
    members = population.tables["members"]
    cbcme = population.tables["practices"].filter(pl.col("kind") == "cbcme")["practice_id"][0]
    enrolled = members.filter(pl.col("health_home_id").is_not_null())
    assert 0.01 <= enrolled.height / MEMBERS <= 0.06
    assert enrolled["health_home_id"].unique().to_list() == [cbcme]


def test_write_round_trips_through_parquet(population: Population, tmp_path: Path) -> None:
    paths = write(population, tmp_path / "demo")
    assert set(paths) == set(population.tables)
    for name, path in paths.items():
        assert path == tmp_path / "demo" / f"{name}.parquet"
        assert pl.read_parquet(path).equals(population.tables[name]), name


def test_generate_rejects_an_empty_population() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate(0, seed=1)
