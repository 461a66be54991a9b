"""A synthetic MassHealth-style population: plan, practices, members, attribution and claims.

Django-free. Everything is drawn from one numpy Generator and built column-wise (no Python loop
runs per member or per claim), so the same seed always gives equal frames and 100,000 members take
seconds. The claims tables use the Tuva Project input layer's column names, order and types, so the
analytics engine can read them exactly as it would read a real plan's files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl
from faker.providers.person.en_US import Provider as _EnglishNames
from faker.providers.person.es_MX import Provider as _SpanishNames
from faker.providers.person.fr_FR import Provider as _FrenchNames
from faker.providers.person.pt_BR import Provider as _PortugueseNames
from faker.providers.person.ru_RU import Provider as _RussianNames
from faker.providers.person.vi_VN import Provider as _VietnameseNames
from faker.providers.person.zh_CN import Provider as _ChineseNames

from caseboard.analytics.input_layer import polars_schema

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


_OWN_SCHEMA: dict[str, dict[str, pl.DataType]] = {
    "practices": {
        "practice_id": pl.String(),
        "kind": pl.String(),
        "name": pl.String(),
        "npi": pl.String(),
        "address": pl.String(),
        "city": pl.String(),
        "state": pl.String(),
        "zip_code": pl.String(),
        "phone": pl.String(),
    },
    "providers": {
        "npi": pl.String(),
        "first_name": pl.String(),
        "last_name": pl.String(),
        "credential": pl.String(),
        "practice_id": pl.String(),
        "role": pl.String(),
        "specialty": pl.String(),
        "name": pl.String(),
    },
    "members": {
        "person_id": pl.String(),
        "member_id": pl.String(),
        "mrn": pl.String(),
        "first_name": pl.String(),
        "last_name": pl.String(),
        "birth_date": pl.Date(),
        "sex": pl.String(),
        "address": pl.String(),
        "city": pl.String(),
        "state": pl.String(),
        "zip_code": pl.String(),
        "phone": pl.String(),
        "email": pl.String(),
        "primary_language": pl.String(),
        "race": pl.String(),
        "ethnicity": pl.String(),
        "medicaid_coverage_level": pl.String(),
        "product": pl.String(),
        "housing_instability": pl.Boolean(),
        "food_insecurity": pl.Boolean(),
        "transportation_need": pl.Boolean(),
        "utility_need": pl.Boolean(),
        "interpersonal_safety": pl.Boolean(),
        "health_home_id": pl.String(),
        "last_seen_date": pl.Date(),
        "risk_pattern": pl.String(),
    },
    "attribution": {
        "person_id": pl.String(),
        "practice_id": pl.String(),
        "pcp_npi": pl.String(),
        "start_date": pl.Date(),
        "end_date": pl.Date(),
    },
}

TABLES: tuple[str, ...] = (
    "eligibility",
    "medical_claim",
    "pharmacy_claim",
    "practices",
    "providers",
    "members",
    "attribution",
)

# --------------------------------------------------------------------------------------------
# The plan, its members and the places they live
# --------------------------------------------------------------------------------------------
# Lookup tables below are kept one record per line, so they stay out of the formatter's hands.
# fmt: off
PAYER = "Bay State Community Health Plan"
PAYER_TYPE = "medicaid"
DATA_SOURCE = "caseboard-demo"
_PLANS = (("MassHealth ACO", 0.7), ("MassHealth MCO", 0.3))
_COVERAGE_LEVELS = (
    ("Standard", 0.56), ("CarePlus", 0.24), ("Family Assistance", 0.12), ("CommonHealth", 0.05),
    ("Limited", 0.03),
)
_CBCME_NAME = "Commonwealth Community Care Partners"

# (city, region, relative MassHealth population, ZIP codes, area codes). Real ZIPs and area codes.
_CITIES: tuple[tuple[str, str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Boston", "boston", 14.0, ("02118", "02119", "02120", "02121", "02122", "02124", "02125",
                                "02126", "02128", "02130", "02136"), ("617", "857")),
    ("Chelsea", "boston", 3.0, ("02150",), ("617", "857")),
    ("Revere", "boston", 2.5, ("02151",), ("781", "339")),
    ("Everett", "boston", 2.0, ("02149",), ("617", "857")),
    ("Cambridge", "boston", 2.0, ("02139", "02141"), ("617", "857")),
    ("Somerville", "boston", 1.5, ("02143", "02145"), ("617", "857")),
    ("Malden", "boston", 2.0, ("02148",), ("781", "339")),
    ("Quincy", "boston", 2.5, ("02169", "02170"), ("617", "857")),
    ("Randolph", "boston", 1.0, ("02368",), ("781", "339")),
    ("Lynn", "north_shore", 4.0, ("01902", "01904", "01905"), ("781", "339")),
    ("Salem", "north_shore", 1.5, ("01970",), ("978", "351")),
    ("Peabody", "north_shore", 1.0, ("01960",), ("978", "351")),
    ("Lawrence", "merrimack", 4.5, ("01840", "01841", "01843"), ("978", "351")),
    ("Lowell", "merrimack", 4.5, ("01850", "01851", "01852", "01854"), ("978", "351")),
    ("Haverhill", "merrimack", 2.0, ("01830", "01832"), ("978", "351")),
    ("Methuen", "merrimack", 1.5, ("01844",), ("978", "351")),
    ("Worcester", "central", 6.0, ("01603", "01604", "01605", "01607", "01610"), ("508", "774")),
    ("Fitchburg", "central", 1.5, ("01420",), ("978", "351")),
    ("Leominster", "central", 1.0, ("01453",), ("978", "351")),
    ("Southbridge", "central", 0.7, ("01550",), ("508", "774")),
    ("Framingham", "metrowest", 2.0, ("01701", "01702"), ("508", "774")),
    ("Marlborough", "metrowest", 0.8, ("01752",), ("508", "774")),
    ("Springfield", "western", 6.0, ("01103", "01104", "01105", "01107", "01108", "01109"),
     ("413",)),
    ("Holyoke", "western", 2.5, ("01040",), ("413",)),
    ("Chicopee", "western", 1.5, ("01013", "01020"), ("413",)),
    ("Pittsfield", "western", 1.5, ("01201",), ("413",)),
    ("Westfield", "western", 0.8, ("01085",), ("413",)),
    ("Brockton", "south", 4.5, ("02301", "02302"), ("508", "774")),
    ("New Bedford", "south", 4.5, ("02740", "02744", "02745", "02746"), ("508", "774")),
    ("Fall River", "south", 4.0, ("02720", "02721", "02723", "02724"), ("508", "774")),
    ("Taunton", "south", 1.5, ("02780",), ("508", "774")),
    ("Attleboro", "south", 0.8, ("02703",), ("508", "774")),
)
_REGIONS = ("boston", "north_shore", "merrimack", "central", "metrowest", "western", "south")

_STREETS = (
    "Main", "Washington", "Elm", "Pleasant", "Union", "School", "Park", "Maple", "Oak",
    "Highland", "Prospect", "Summer", "Spring", "Center", "Chestnut", "Franklin", "Winter",
    "Water", "High", "Church", "Bridge", "Mill", "Walnut", "Pine", "Cedar", "Lincoln", "Central",
    "Adams", "Grove", "Essex", "Common", "Hancock", "Cottage", "Myrtle", "Bowdoin", "Belmont",
    "Hillside", "Lafayette", "Salem", "Ashland", "Greenwood", "Columbia", "Dudley", "Eastern",
    "Western", "Harrison", "Jefferson", "Lowell", "Bennington", "Dorchester",
)
_STREET_TYPES = (("St", 0.55), ("Ave", 0.2), ("Rd", 0.08), ("Ter", 0.05), ("Pl", 0.04),
                 ("Ct", 0.03), ("Way", 0.02), ("Dr", 0.03))
_PRACTICE_SUFFIXES = (
    "Family Health Center", "Community Health Center", "Primary Care", "Family Medicine",
    "Neighborhood Health", "Health Associates", "Internal Medicine & Pediatrics",
    "Medical Group", "Health Partners", "Pediatric & Adult Medicine",
)
# Fictional hospitals and pharmacies, one or two per region, so claims carry named facilities.
_HOSPITALS = (
    ("Tremont Medical Center", "Boston"),
    ("Mystic River Hospital", "Everett"),
    ("North Shore Community Hospital", "Lynn"),
    ("Merrimack Valley General Hospital", "Lawrence"),
    ("Central Commonwealth Medical Center", "Worcester"),
    ("Pioneer Valley Medical Center", "Springfield"),
    ("Old Colony Regional Hospital", "Brockton"),
    ("South Coast Regional Hospital", "New Bedford"),
)
_PHARMACIES = (
    ("Harborside Pharmacy", "Boston"),
    ("Blue Hill Community Pharmacy", "Boston"),
    ("Essex Street Apothecary", "Lawrence"),
    ("Merrimack Family Pharmacy", "Lowell"),
    ("Union Square Pharmacy", "Worcester"),
    ("Main Street Pharmacy", "Springfield"),
    ("Acushnet Avenue Pharmacy", "New Bedford"),
    ("Union Street Pharmacy", "Lynn"),
)
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # RFC 2606: never deliverable

# (language, share, name pool). MA Medicaid households: English majority, then Spanish,
# Portuguese, Haitian Creole, Vietnamese, Chinese, Cape Verdean Creole, Russian, Khmer, Arabic.
# Khmer and Arabic speakers get English-list names: Faker has no Latin-script lists for them.
_LANGUAGES = (
    ("English", 0.708, "en"),
    ("Spanish", 0.165, "es"),
    ("Portuguese", 0.04, "pt"),
    ("Haitian Creole", 0.025, "fr"),
    ("Vietnamese", 0.015, "vi"),
    ("Chinese", 0.015, "zh"),
    ("Cape Verdean Creole", 0.01, "pt"),
    ("Russian", 0.008, "ru"),
    ("Khmer", 0.007, "en"),
    ("Arabic", 0.007, "en"),
)
# Tuva race terminology values; the rows below follow _LANGUAGES.
_RACES = (
    "white", "black or african american", "asian", "american indian or alaska native",
    "native hawaiian or other pacific islander", "other race", "unknown", "asked but unknown",
)
_RACE_BY_LANGUAGE = (
    (0.46, 0.27, 0.04, 0.01, 0.005, 0.08, 0.12, 0.015),
    (0.30, 0.08, 0.0, 0.01, 0.0, 0.40, 0.19, 0.02),
    (0.62, 0.10, 0.0, 0.0, 0.0, 0.18, 0.10, 0.0),
    (0.0, 0.86, 0.0, 0.0, 0.0, 0.04, 0.10, 0.0),
    (0.0, 0.0, 0.93, 0.0, 0.0, 0.0, 0.07, 0.0),
    (0.0, 0.0, 0.93, 0.0, 0.0, 0.0, 0.07, 0.0),
    (0.0, 0.80, 0.0, 0.0, 0.0, 0.10, 0.10, 0.0),
    (0.90, 0.0, 0.0, 0.0, 0.0, 0.0, 0.10, 0.0),
    (0.0, 0.0, 0.93, 0.0, 0.0, 0.0, 0.07, 0.0),
    (0.60, 0.0, 0.0, 0.0, 0.0, 0.25, 0.15, 0.0),
)
_ETHNICITIES = ("hispanic", "non-hispanic", "unknown")  # as in Tuva's own test seeds
_ETHNICITY_BY_LANGUAGE = (
    (0.09, 0.79, 0.12),
    (0.95, 0.01, 0.04),
    (0.04, 0.86, 0.10),
    (0.0, 0.90, 0.10),
    (0.0, 0.92, 0.08),
    (0.0, 0.92, 0.08),
    (0.0, 0.90, 0.10),
    (0.0, 0.90, 0.10),
    (0.0, 0.92, 0.08),
    (0.0, 0.85, 0.15),
)

# Medicaid age mix: (low, high) years and share.
_AGE_BANDS = ((0, 5, 0.12), (5, 13, 0.16), (13, 19, 0.12), (19, 27, 0.10), (27, 45, 0.22),
              (45, 65, 0.23), (65, 86, 0.05))

# --------------------------------------------------------------------------------------------
# Clinical content. Every ICD-10-CM code below is billable in the April 2026 release (the tests
# check each one with simple_icd_10_cm). MS-DRG relative weights and lengths of stay are rounded
# approximations for plausible amounts, not a payment table.
# --------------------------------------------------------------------------------------------


class _Condition(NamedTuple):
    name: str
    chronic: tuple[tuple[str, float], ...]  # the member's standing diagnosis, one per member
    acute: tuple[tuple[str, float], ...]  # principal diagnosis of an ED visit or admission
    specialty: str
    office_rate: float  # extra PCP visits a year
    specialist_rate: float
    ed_rate: float
    ip_rate: float
    readmit: float  # share of its admissions followed by another within 30 days
    prevalence: tuple[float, float, float, float]  # ages <18, 18-39, 40-64, 65+


# Rates are per member-year: PCP visits, specialist visits, ED visits, admissions.
_CONDITIONS: tuple[_Condition, ...] = (
    _Condition("diabetes",
               (("E11.9", 0.4), ("E11.65", 0.25), ("E11.22", 0.1), ("E11.40", 0.15),
                ("E10.9", 0.1)),
               (("E11.65", 0.5), ("E11.649", 0.25), ("E11.10", 0.25)),
               "Endocrinology", 1.5, 0.6, 0.25, 0.06, 0.15, (0.003, 0.04, 0.17, 0.25)),
    _Condition("hypertension", (("I10", 1.0),), (("I16.0", 1.0),),
               "Cardiology", 0.8, 0.15, 0.08, 0.015, 0.10, (0.005, 0.08, 0.33, 0.6)),
    _Condition("heart_failure",
               (("I50.22", 0.3), ("I50.32", 0.3), ("I50.9", 0.25), ("I11.0", 0.15)),
               (("I50.23", 0.4), ("I50.33", 0.35), ("I50.9", 0.25)),
               "Cardiology", 2.0, 2.0, 1.0, 0.55, 0.22, (0.0005, 0.002, 0.02, 0.07)),
    _Condition("ckd",
               (("N18.30", 0.25), ("N18.31", 0.2), ("N18.32", 0.15), ("N18.4", 0.15),
                ("I12.9", 0.25)),
               (("N17.9", 1.0),),
               "Nephrology", 1.0, 1.2, 0.35, 0.15, 0.18, (0.001, 0.01, 0.04, 0.12)),
    _Condition("copd", (("J44.9", 0.8), ("J43.9", 0.2)), (("J44.1", 0.7), ("J44.0", 0.3)),
               "Pulmonary Disease", 1.2, 0.8, 0.7, 0.25, 0.18, (0.0, 0.005, 0.07, 0.12)),
    _Condition("asthma",
               (("J45.909", 0.45), ("J45.20", 0.2), ("J45.30", 0.2), ("J45.40", 0.15)),
               (("J45.901", 0.7), ("J45.41", 0.3)),
               "Pulmonary Disease", 0.8, 0.4, 0.45, 0.04, 0.08, (0.10, 0.09, 0.09, 0.07)),
    _Condition("depression",
               (("F32.9", 0.3), ("F33.1", 0.3), ("F32.A", 0.2), ("F41.1", 0.2)),
               (("F33.2", 0.6), ("R45.851", 0.4)),
               "Psychiatry", 1.0, 2.5, 0.35, 0.04, 0.12, (0.03, 0.17, 0.17, 0.12)),
    _Condition("smi", (("F20.9", 0.35), ("F25.0", 0.25), ("F31.9", 0.4)),
               (("F20.9", 0.35), ("F25.0", 0.25), ("F31.2", 0.4)),
               "Psychiatry", 1.0, 6.0, 1.4, 0.28, 0.20, (0.004, 0.05, 0.05, 0.03)),
    _Condition("sud", (("F10.20", 0.4), ("F11.20", 0.4), ("F14.20", 0.2)),
               (("F10.239", 0.4), ("F11.23", 0.35), ("T40.411A", 0.25)),
               "Addiction Medicine", 1.2, 5.0, 1.7, 0.28, 0.22, (0.004, 0.09, 0.09, 0.04)),
    # Sickle cell prevalence depends on race; see _conditions().
    _Condition("sickle_cell", (("D57.1", 1.0),), (("D57.00", 0.75), ("D57.01", 0.25)),
               "Hematology & Oncology", 1.5, 3.0, 2.0, 1.0, 0.25, (0.0, 0.0, 0.0, 0.0)),
    _Condition("hiv", (("B20", 0.4), ("Z21", 0.6)), (("B20", 1.0),),
               "Infectious Disease", 1.5, 4.0, 0.5, 0.12, 0.15, (0.0, 0.005, 0.006, 0.004)),
)
_CONDITION_NAMES = tuple(c.name for c in _CONDITIONS)
_K = len(_CONDITIONS)
_COND = {name: k for k, name in enumerate(_CONDITION_NAMES)}

# Principal diagnosis of an admission -> MS-DRG choices.
_ADMISSION_DRGS: dict[str, tuple[tuple[str, float], ...]] = {
    "E11.65": (("637", 0.2), ("638", 0.45), ("639", 0.35)),
    "E11.649": (("637", 0.2), ("638", 0.45), ("639", 0.35)),
    "E11.10": (("637", 0.35), ("638", 0.45), ("639", 0.2)),
    "I16.0": (("304", 0.3), ("305", 0.7)),
    "I50.23": (("291", 0.55), ("292", 0.3), ("293", 0.15)),
    "I50.33": (("291", 0.55), ("292", 0.3), ("293", 0.15)),
    "I50.9": (("291", 0.5), ("292", 0.3), ("293", 0.2)),
    "N17.9": (("682", 0.3), ("683", 0.5), ("684", 0.2)),
    "J44.1": (("190", 0.3), ("191", 0.35), ("192", 0.35)),
    "J44.0": (("190", 0.35), ("191", 0.35), ("192", 0.3)),
    "J45.901": (("202", 0.4), ("203", 0.6)),
    "J45.41": (("202", 0.4), ("203", 0.6)),
    "F33.2": (("885", 1.0),),
    "R45.851": (("880", 1.0),),
    "F20.9": (("885", 1.0),),
    "F25.0": (("885", 1.0),),
    "F31.2": (("885", 1.0),),
    "F10.239": (("896", 0.3), ("897", 0.7)),
    "F11.23": (("896", 0.3), ("897", 0.7)),
    "T40.411A": (("917", 0.35), ("918", 0.65)),
    "D57.00": (("811", 0.35), ("812", 0.65)),
    "D57.01": (("811", 0.6), ("812", 0.4)),
    "B20": (("977", 1.0),),
    "J18.9": (("193", 0.3), ("194", 0.4), ("195", 0.3)),
    "L03.115": (("602", 0.3), ("603", 0.7)),
    "R07.9": (("313", 1.0),),
    "A41.9": (("871", 1.0),),
    "O24.410": (("832", 0.4), ("833", 0.6)),
    "O10.919": (("832", 0.4), ("833", 0.6)),
    "O99.320": (("832", 0.4), ("833", 0.6)),
}
# MS-DRG -> (approximate relative weight, mean nights, room-and-board revenue code).
_DRGS: dict[str, tuple[float, float, str]] = {
    "291": (1.35, 4.5, "0120"), "292": (0.90, 3.5, "0120"), "293": (0.65, 2.5, "0120"),
    "190": (1.15, 4.0, "0120"), "191": (0.92, 3.3, "0120"), "192": (0.72, 2.7, "0120"),
    "202": (0.95, 3.2, "0120"), "203": (0.68, 2.4, "0120"),
    "637": (1.35, 4.2, "0120"), "638": (0.85, 3.0, "0120"), "639": (0.60, 2.2, "0120"),
    "304": (1.00, 3.2, "0120"), "305": (0.65, 2.0, "0120"),
    "682": (1.45, 4.6, "0120"), "683": (0.90, 3.5, "0120"), "684": (0.62, 2.6, "0120"),
    "885": (1.30, 9.0, "0124"), "880": (0.85, 4.0, "0124"),
    "896": (1.55, 5.0, "0126"), "897": (0.78, 3.5, "0126"),
    "917": (1.38, 3.5, "0120"), "918": (0.85, 2.3, "0120"),
    "811": (1.25, 4.5, "0120"), "812": (0.85, 3.2, "0120"),
    "977": (1.10, 4.0, "0120"),
    "193": (1.30, 4.5, "0120"), "194": (0.90, 3.5, "0120"), "195": (0.68, 2.7, "0120"),
    "602": (1.40, 5.0, "0120"), "603": (0.88, 3.5, "0120"),
    "313": (0.55, 1.2, "0120"),
    "871": (1.85, 6.5, "0120"),
    "807": (0.62, 2.0, "0122"), "806": (0.75, 2.4, "0122"),
    "788": (0.95, 3.0, "0122"), "787": (1.05, 3.4, "0122"),
    "832": (0.70, 2.5, "0122"), "833": (0.52, 1.8, "0122"),
}
_DRG_BASE_RATE = 11_500.0
_PSYCH_DRGS = frozenset({"885", "880"})

_GENERIC_ED = (("J06.9", 0.14), ("R10.9", 0.12), ("R07.9", 0.1), ("S93.401A", 0.08),
               ("N39.0", 0.08), ("R51.9", 0.08), ("J02.9", 0.08), ("L03.115", 0.06),
               ("M54.50", 0.1), ("R05.9", 0.08), ("H66.90", 0.08))
_GENERIC_ADMISSION = (("J18.9", 0.5), ("L03.115", 0.3), ("R07.9", 0.2))
_ADULT_ACUTE = (("J06.9", 0.15), ("M54.50", 0.12), ("K21.9", 0.1), ("R10.9", 0.08),
                ("N39.0", 0.08), ("E66.9", 0.1), ("E78.5", 0.12), ("F41.9", 0.08),
                ("R51.9", 0.05), ("L03.90", 0.04), ("J02.9", 0.04), ("R05.9", 0.04))
_CHILD_ACUTE = (("J06.9", 0.3), ("H66.90", 0.25), ("J02.9", 0.2), ("R05.9", 0.15),
                ("Z23", 0.1))
_PRENATAL = ("Z34.81", "Z34.82", "Z34.83")  # by trimester
_HIGH_RISK_PRENATAL = ("O09.891", "O09.892", "O09.893")
# High-risk pregnancy complication: (in pregnancy, complicating childbirth).
_PREGNANCY_COMPLICATIONS = (("O24.410", "O24.420"), ("O10.919", "O10.92"),
                            ("O99.320", "O99.324"))
_SEPSIS = "A41.9"

# Social needs: (member flag, share of members, ICD-10-CM Z codes with weights).
_SOCIAL_NEEDS = (
    ("housing_instability", 0.08, (("Z59.00", 0.15), ("Z59.01", 0.2), ("Z59.02", 0.05),
                                   ("Z59.811", 0.25), ("Z59.812", 0.15), ("Z59.819", 0.1),
                                   ("Z59.10", 0.1))),
    ("food_insecurity", 0.12, (("Z59.41", 0.85), ("Z59.48", 0.15))),
    ("transportation_need", 0.07, (("Z59.82", 1.0),)),
    ("utility_need", 0.05, (("Z59.12", 0.7), ("Z58.81", 0.3))),
    ("interpersonal_safety", 0.02, (("Z63.0", 0.5), ("Z91.410", 0.3), ("Z91.411", 0.2))),
)
_LIVING_ALONE = "Z60.2"
_NICOTINE = "F17.210"

# HCPCS/CPT -> approximate MassHealth allowed amount in dollars.
_FEES: dict[str, float] = {
    "99202": 55, "99203": 85, "99204": 130, "99205": 170,
    "99211": 20, "99212": 45, "99213": 72, "99214": 105, "99215": 145,
    "99391": 90, "99392": 95, "99393": 95, "99394": 100, "99395": 100, "99396": 105,
    "99397": 110, "G0439": 120,
    "99281": 18, "99282": 35, "99283": 55, "99284": 95, "99285": 140,
    "99221": 85, "99222": 110, "99223": 150, "99231": 45, "99232": 70, "99233": 100,
    "99238": 70, "99239": 100,
    "36415": 3, "80053": 11, "83036": 10, "80061": 14, "85025": 8, "93000": 15, "93005": 10,
    "71046": 28, "96127": 5, "99406": 12, "82043": 7, "87389": 18,
    "90791": 120, "90792": 135, "90834": 85, "90837": 115, "80305": 13, "87536": 90,
    "94010": 30, "76805": 110, "81025": 8, "59409": 650, "59514": 750,
}
# Tests and counselling added to some PCP visits, in the order _office_visits() draws them.
_OFFICE_TESTS = ("80053", "83036", "80061", "85025", "93000", "71046", "96127", "99406",
                 "82043", "87389")
# ED facility (revenue code 0450) allowed by visit level.
_ED_FACILITY = {"99281": 150.0, "99282": 250.0, "99283": 420.0, "99284": 650.0, "99285": 950.0}
_VAGINAL_DELIVERY_PCS = "10E0XZZ"  # ICD-10-PCS: delivery of products of conception, external
_CESAREAN_PCS = "10D00Z1"  # ICD-10-PCS: extraction of products of conception, low, open

# Specialist test done at some visits.
_SPECIALTY_TESTS = {
    "Cardiology": "93000", "Pulmonary Disease": "94010", "Endocrinology": "83036",
    "Nephrology": "80053", "Hematology & Oncology": "85025", "Infectious Disease": "87536",
    "Addiction Medicine": "80305", "Obstetrics & Gynecology": "76805", "Psychiatry": "",
}
_COMMUNITY_SPECIALTIES = ("Endocrinology", "Cardiology", "Nephrology", "Pulmonary Disease",
                          "Psychiatry", "Addiction Medicine", "Hematology & Oncology",
                          "Infectious Disease", "Obstetrics & Gynecology")
_HOSPITAL_SPECIALTIES = ("Emergency Medicine", "Hospital Medicine")


class _Drug(NamedTuple):
    ndc: str  # 11-digit 5-4-2 billing form
    name: str
    conditions: tuple[tuple[str, float], ...]  # (condition, share of those members on it)
    quantity: int  # per 30 days
    allowed: float  # per 30 days
    specialty: str  # prescriber; "" means the member's PCP
    allow_90: bool
    refill_gap: float  # typical spacing between fills, in supplies (1.0 = on time)


# Each NDC is a real package. Sources (public FDA label listings, found with a web search):
_DRUGS: tuple[_Drug, ...] = (
    # DailyMed label, Legacy Pharmaceutical Packaging: metformin 500 mg, NDC 68645-582-59.
    _Drug("68645058259", "metformin HCl 500 mg tablet", (("diabetes", 0.8),), 60, 8.0, "",
          True, 1.15),
    # Lantus 10 mL vial, sanofi-aventis, NDC 0088-2220-33 (widely cited; not checked against
    # the FDA directory itself).
    _Drug("00088222033", "Lantus (insulin glargine) 100 units/mL vial", (("diabetes", 0.3),),
          10, 150.0, "", False, 1.1),
    # MedPath/DailyMed label, A-S Medication Solutions: lisinopril 10 mg, NDC 50090-2988-0.
    _Drug("50090298800", "lisinopril 10 mg tablet",
          (("hypertension", 0.6), ("heart_failure", 0.5), ("ckd", 0.4)), 30, 4.0, "", True,
          1.15),
    # DailyMed label, Golden State Medical Supply: furosemide 40 mg, NDC 51407-114-90.
    _Drug("51407011490", "furosemide 40 mg tablet", (("heart_failure", 0.8), ("ckd", 0.2)),
          30, 5.0, "", True, 1.1),
    # ndclist.com, Teva: albuterol sulfate HFA, 200 actuations, NDC 0093-3174-31.
    _Drug("00093317431", "albuterol sulfate HFA inhaler", (("asthma", 0.85), ("copd", 0.8)),
          1, 35.0, "", False, 2.2),
    # DailyMed label, AstraZeneca: Symbicort inhalation aerosol, NDC 0186-0370-20.
    _Drug("00186037020", "Symbicort (budesonide/formoterol) inhaler",
          (("asthma", 0.35), ("copd", 0.6)), 1, 300.0, "", False, 1.3),
    # medlibrary.org label: sertraline 50 mg, bottles of 30, NDC 68533-056-12.
    _Drug("68533005612", "sertraline 50 mg tablet", (("depression", 0.55), ("smi", 0.2)), 30,
          6.0, "", True, 1.2),
    # medlibrary.org label, Sun Pharmaceutical: quetiapine 100 mg, 30s, NDC 47335-904-83.
    _Drug("47335090483", "quetiapine 100 mg tablet", (("smi", 0.6),), 60, 12.0, "Psychiatry",
          False, 1.25),
    # DailyMed label, Indivior: Suboxone 8 mg/2 mg film, 30 films, NDC 12496-1208-3.
    _Drug("12496120803", "Suboxone (buprenorphine/naloxone) 8 mg/2 mg film", (("sud", 0.35),),
          60, 520.0, "Addiction Medicine", False, 1.2),
    # Label "how supplied", Par Pharmaceutical: hydroxyurea 500 mg, 100s, NDC 49884-724-01.
    _Drug("49884072401", "hydroxyurea 500 mg capsule", (("sickle_cell", 0.7),), 60, 45.0,
          "Hematology & Oncology", False, 1.15),
    # FDA SPL, Gilead: Biktarvy product NDC 61958-2501 (package -01, the bottle of 30, is
    # not confirmed there).
    _Drug("61958250101", "Biktarvy (bictegravir/emtricitabine/tenofovir alafenamide)",
          (("hiv", 0.85),), 30, 3900.0, "Infectious Disease", False, 1.05),
)
# fmt: on


# --------------------------------------------------------------------------------------------
# Names: Faker's published lists, sampled with numpy (never a Faker call per row)
# --------------------------------------------------------------------------------------------
_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        (
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ),
        strict=True,
    )
)


def _latin(name: str) -> str:
    # Russian-speaking members' names reach the plan transliterated, as on a MassHealth card.
    out = "".join(_CYRILLIC.get(ch.lower(), ch.lower()) for ch in name)
    return out[:1].upper() + out[1:]


class _NamePool(NamedTuple):
    female: tuple[str, ...]
    female_p: FloatArray
    male: tuple[str, ...]
    male_p: FloatArray
    last_female: tuple[str, ...]
    last_female_p: FloatArray
    last_male: tuple[str, ...]
    last_male_p: FloatArray


def _weights(names: object) -> tuple[tuple[str, ...], FloatArray]:
    if isinstance(names, dict):
        keys = tuple(str(k) for k in names)
        w = np.array([float(v) for v in names.values()], dtype=np.float64)
    else:
        keys = tuple(str(k) for k in names)  # type: ignore[attr-defined]
        w = np.ones(len(keys), dtype=np.float64)
    return keys, w / w.sum()


def _pool(female: object, male: object, last_f: object, last_m: object) -> _NamePool:
    f, fp = _weights(female)
    m, mp = _weights(male)
    lf, lfp = _weights(last_f)
    lm, lmp = _weights(last_m)
    return _NamePool(f, fp, m, mp, lf, lfp, lm, lmp)


_NAME_POOLS: dict[str, _NamePool] = {
    "en": _pool(
        _EnglishNames.first_names_female,
        _EnglishNames.first_names_male,
        _EnglishNames.last_names,
        _EnglishNames.last_names,
    ),
    "es": _pool(
        _SpanishNames.first_names_female,
        _SpanishNames.first_names_male,
        _SpanishNames.last_names,
        _SpanishNames.last_names,
    ),
    "pt": _pool(
        _PortugueseNames.first_names_female,
        _PortugueseNames.first_names_male,
        _PortugueseNames.last_names,
        _PortugueseNames.last_names,
    ),
    "fr": _pool(
        _FrenchNames.first_names_female,
        _FrenchNames.first_names_male,
        _FrenchNames.last_names,
        _FrenchNames.last_names,
    ),
    "vi": _pool(
        _VietnameseNames.first_names_female,
        _VietnameseNames.first_names_male,
        _VietnameseNames.last_names,
        _VietnameseNames.last_names,
    ),
    "zh": _pool(
        _ChineseNames.first_romanized_names,
        _ChineseNames.first_romanized_names,
        _ChineseNames.last_romanized_names,
        _ChineseNames.last_romanized_names,
    ),
    "ru": _pool(
        tuple(_latin(n) for n in _RussianNames.first_names_female),
        tuple(_latin(n) for n in _RussianNames.first_names_male),
        tuple(_latin(n) for n in _RussianNames.last_names_female),
        tuple(_latin(n) for n in _RussianNames.last_names_male),
    ),
}
_POOL_KEYS = tuple(_NAME_POOLS)


# --------------------------------------------------------------------------------------------
# Vocabularies: codes are carried as integer indices and turned into strings once, at the end
# --------------------------------------------------------------------------------------------
class _Vocab:
    def __init__(self, items: Iterable[str], *, written: Callable[[str], str] = str) -> None:
        self.items: tuple[str, ...] = tuple(dict.fromkeys(items))
        self.index: dict[str, int] = {s: i for i, s in enumerate(self.items)}
        self.series = pl.Series([written(s) for s in self.items], dtype=pl.String)

    def __getitem__(self, item: str) -> int:
        return self.index[item]

    def ids(self, items: Sequence[str]) -> IntArray:
        return np.array([self.index[s] for s in items], dtype=np.int64)

    def strings(self, name: str, idx: IntArray) -> pl.Series:
        return self.series.gather(_nullable_index(idx)).alias(name)


def _nullable_index(idx: IntArray) -> pl.Series:
    return pl.Series(np.where(idx >= 0, idx, np.nan), nan_to_null=True).cast(pl.UInt32)


def _all_icd_codes() -> list[str]:
    codes: list[str] = []
    for c in _CONDITIONS:
        codes += [x for x, _ in c.chronic] + [x for x, _ in c.acute]
    for group in (_GENERIC_ED, _GENERIC_ADMISSION, _ADULT_ACUTE, _CHILD_ACUTE):
        codes += [x for x, _ in group]
    for _, _, zs in _SOCIAL_NEEDS:
        codes += [x for x, _ in zs]
    for pair in _PREGNANCY_COMPLICATIONS:
        codes += list(pair)
    codes += [
        *_PRENATAL,
        *_HIGH_RISK_PRENATAL,
        "O80",
        "O82",
        "Z37.0",
        _SEPSIS,
        _LIVING_ALONE,
        _NICOTINE,
        "Z00.00",
        "Z00.01",
        "Z00.121",
        "Z00.129",
        "Z79.4",
        "Z79.84",
    ]
    codes += list(_ADMISSION_DRGS)
    return codes


ICD10_CM_CODES: tuple[str, ...] = tuple(dict.fromkeys(_all_icd_codes()))
"""Every ICD-10-CM code the generator can write, for validity checks."""

# Claims carry ICD-10-CM codes without the dot, as the Tuva input layer and CMS files do.
_ICD = _Vocab(ICD10_CM_CODES, written=lambda code: code.replace(".", ""))
_HCPCS = _Vocab(_FEES)
_DRG = _Vocab(_DRGS)
_REV = _Vocab(("0120", "0122", "0124", "0126", "0250", "0300", "0324", "0450", "0720", "0730"))
_POS = _Vocab(("11", "21", "22", "23"))
_PCS = _Vocab((_VAGINAL_DELIVERY_PCS, _CESAREAN_PCS))
_NDC = _Vocab(d.ndc for d in _DRUGS)
_DX_WIDTH = 12  # diagnosis columns we fill; Tuva has 25


def _p(weights: Sequence[float]) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    return np.asarray(w / w.sum(), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Population:
    """A generated population: Tuva input-layer claims plus the plan's own reference tables."""

    as_of: date
    tables: dict[str, pl.DataFrame]


def generate(members: int, seed: int, as_of: date = date(2026, 9, 30)) -> Population:
    """Generate `members` members of one MassHealth plan, with 3 years of claims to `as_of`."""
    if members < 1:
        raise ValueError(f"members must be at least 1, got {members}")
    return _Generator(members, seed, as_of).run()


def write(population: Population, out_dir: Path) -> dict[str, Path]:
    """Write every table to `out_dir/<table>.parquet`; return the paths by table name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in population.tables.items():
        path = out_dir / f"{name}.parquet"
        frame.write_parquet(path)
        paths[name] = path
    return paths


# --------------------------------------------------------------------------------------------
# Vectorised helpers
# --------------------------------------------------------------------------------------------
_EPOCH = date(1970, 1, 1)


def _day(d: date) -> int:
    return (d - _EPOCH).days


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _pick(rng: np.random.Generator, size: int, weights: Sequence[float]) -> IntArray:
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    return rng.choice(len(weights), size=size, p=_p(weights)).astype(np.int64)


def _pick_rows(rng: np.random.Generator, weights: FloatArray) -> IntArray:
    """One category per row, drawn with that row's weights (rows of zeros give the last)."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cum[:, -1]
    idx = (cum <= u[:, None]).sum(axis=1)
    return np.asarray(np.minimum(idx, weights.shape[1] - 1), dtype=np.int64)


def _within_group(counts: IntArray) -> IntArray:
    """0, 1, ... within each run of np.repeat(arange(len(counts)), counts)."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def _npi_check_digit(base9: IntArray) -> IntArray:
    # CMS: Luhn over the card-issuer prefix 80840 plus the 9 digits; the prefix adds 24.
    digits = (base9[:, None] // 10 ** np.arange(8, -1, -1, dtype=np.int64)) % 10
    doubled = digits[:, 0::2] * 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = doubled.sum(axis=1) + digits[:, 1::2].sum(axis=1) + 24
    return np.asarray((10 - total % 10) % 10, dtype=np.int64)


def _ids(prefix: str, numbers: IntArray, width: int, name: str) -> pl.Series:
    digits = pl.Series(numbers).cast(pl.String).str.zfill(width)
    return pl.select(pl.concat_str(pl.lit(prefix), pl.lit(digits))).to_series().alias(name)


def _where(name: str, mask: BoolArray, value: str, otherwise: str | None = None) -> pl.Series:
    """`value` where `mask` holds, else `otherwise` (null by default), as a String column."""
    return pl.Series(name, [otherwise, value], dtype=pl.String).gather(mask.astype(np.uint32))


def _constant(name: str, value: str, size: int) -> pl.Series:
    return pl.repeat(value, size, dtype=pl.String, eager=True).alias(name)


def _dates(name: str, days: IntArray, valid: BoolArray | None = None) -> pl.Series:
    if valid is None:
        return pl.Series(name, days.astype(np.int32)).cast(pl.Date)
    values = np.where(valid, days, np.nan)
    return pl.Series(name, values, nan_to_null=True).cast(pl.Int32).cast(pl.Date)


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Exactly `schema`'s columns, in order and type; absent ones are typed nulls."""
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------
@dataclass
class _Claims:
    """Claim headers (one row per claim) as parallel numpy arrays."""

    member: IntArray
    institutional: BoolArray
    start: IntArray
    end: IntArray
    bill_type: IntArray  # 0 none, 1 inpatient (111), 2 outpatient (131)
    drg: IntArray
    admit_source: IntArray  # 0 none, 1 "1", 7 "7"
    admit_type: IntArray
    discharge: IntArray  # 0 none, else the code number
    rendering: IntArray
    billing: IntArray
    facility: IntArray
    dx: IntArray  # claims x 12, ICD vocabulary indices, -1 empty
    proc: IntArray
    office: BoolArray  # a PCP office visit (counts for last_seen_date)


@dataclass
class _Lines:
    claim: IntArray
    hcpcs: IntArray
    rev: IntArray
    pos: IntArray
    start: IntArray
    end: IntArray
    units: FloatArray
    allowed: FloatArray


class _Generator:
    def __init__(self, n: int, seed: int, as_of: date) -> None:
        self.n = n
        self.rng = np.random.default_rng(seed)
        self.as_of = as_of
        self.today = _day(as_of)
        self.window_start = _day(_years_before(as_of, 3)) + 1
        self.n_practices = min(60, max(3, n // 2000))
        self._people_cache: pl.DataFrame | None = None

    # ---------------------------------------------------------------- run
    def run(self) -> Population:
        self._organizations()
        self._people()
        self._conditions()
        self._coverage()
        self._attribution()
        claims, lines = self._medical_claims()
        pharmacy = self._pharmacy_claims()
        tables = {
            "eligibility": self._eligibility_frame(),
            "medical_claim": self._medical_frame(claims, lines),
            "pharmacy_claim": pharmacy,
            "practices": self._practices_frame(),
            "providers": self._providers_frame(),
            "members": self._members_frame(claims),
            "attribution": self._attribution_frame(),
        }
        return Population(as_of=self.as_of, tables=tables)

    # ---------------------------------------------------------------- organizations
    def _organizations(self) -> None:
        rng = self.rng
        n_cities = len(_CITIES)
        self.city_weight = np.array([c[2] for c in _CITIES])
        self.city_region = np.array([_REGIONS.index(c[1]) for c in _CITIES], dtype=np.int64)
        zips = [z for c in _CITIES for z in c[3]]
        self.zip_vocab = _Vocab(zips)
        self.city_zip_start = np.cumsum([0] + [len(c[3]) for c in _CITIES])[:-1].astype(np.int64)
        self.city_zip_count = np.array([len(c[3]) for c in _CITIES], dtype=np.int64)
        self.zip_ids = self.zip_vocab.ids(zips)
        self.area_codes = [c[4] for c in _CITIES]

        # Practices: a city each, named by city and a suffix distinct within the city.
        p = self.n_practices
        p_city = _pick(rng, p, self.city_weight.tolist())
        order = np.argsort(p_city, kind="stable")
        nth = np.empty(p, dtype=np.int64)
        nth[order] = _within_group(np.bincount(p_city, minlength=n_cities)[np.unique(p_city)])
        suffix = [_PRACTICE_SUFFIXES[k % len(_PRACTICE_SUFFIXES)] for k in nth.tolist()]
        names = [f"{_CITIES[c][0]} {s}" for c, s in zip(p_city.tolist(), suffix, strict=True)]
        self.practice_city = np.append(p_city, _pick(rng, 1, self.city_weight.tolist()))
        self.practice_names = [*names, _CBCME_NAME]
        self.practice_kind = ["practice"] * p + ["cbcme"]
        self.practice_size = rng.dirichlet(np.full(p, 4.0))  # share of members
        self.practice_mrn_style = rng.integers(0, 3, size=p)

        # Entities with NPIs: practices, the CB-CME, PCPs, specialists, hospitals, pharmacies.
        pcp_count = rng.integers(3, 9, size=p)
        self.pcp_start = np.cumsum(pcp_count) - pcp_count
        self.pcp_count = pcp_count.astype(np.int64)
        n_pcp = int(pcp_count.sum())
        self.pcp_practice = np.repeat(np.arange(p), pcp_count)

        n_h = len(_HOSPITALS)
        per_community = max(2, p // 4)
        spec_names: list[str] = []
        spec_hospital: list[int] = []
        for h in range(n_h):
            for s in _HOSPITAL_SPECIALTIES:
                spec_names += [s] * 3
                spec_hospital += [h] * 3
        for s in _COMMUNITY_SPECIALTIES:
            spec_names += [s] * per_community
            spec_hospital += rng.integers(0, n_h, size=per_community).tolist()
        self.spec_specialty = spec_names
        self.spec_hospital = np.array(spec_hospital, dtype=np.int64)
        n_spec = len(spec_names)

        self.n_org = p + 1  # practices then the CB-CME
        self.off_pcp = self.n_org
        self.off_spec = self.off_pcp + n_pcp
        self.off_hosp = self.off_spec + n_spec
        self.off_pharm = self.off_hosp + n_h
        n_entities = self.off_pharm + len(_PHARMACIES)
        base = rng.choice(100_000_000, size=n_entities, replace=False).astype(np.int64)
        base += 100_000_000
        npi = base * 10 + _npi_check_digit(base)
        self.npi = pl.Series("npi", npi).cast(pl.String)
        self.n_pcp = n_pcp
        self.n_spec = n_spec

        # Specialists grouped by specialty (for choosing one by specialty).
        spec_arr = np.array(spec_names)
        self.specialty_members: dict[str, IntArray] = {
            s: np.flatnonzero(spec_arr == s).astype(np.int64) + self.off_spec
            for s in dict.fromkeys(spec_names)
        }

        # People's names for PCPs and specialists (English pool; clinicians are a mixed lot).
        n_people = n_pcp + n_spec
        en = _NAME_POOLS["en"]
        female = rng.random(n_people) < 0.6
        first = np.where(
            female,
            np.array(en.female, dtype=object)[rng.choice(len(en.female), n_people, p=en.female_p)],
            np.array(en.male, dtype=object)[rng.choice(len(en.male), n_people, p=en.male_p)],
        )
        last = np.array(en.last_male, dtype=object)[
            rng.choice(len(en.last_male), n_people, p=en.last_male_p)
        ]
        self.clin_first = first.tolist()
        self.clin_last = last.tolist()
        cred_pcp = np.array(["MD", "DO", "NP", "PA"])[_pick(rng, n_pcp, (0.55, 0.12, 0.25, 0.08))]
        cred_spec = np.array(["MD", "DO"])[_pick(rng, n_spec, (0.85, 0.15))]
        self.clin_credential = [*cred_pcp.tolist(), *cred_spec.tolist()]
        md_specialty = np.array(["Family Medicine", "Internal Medicine", "Pediatrics"])[
            _pick(rng, n_pcp, (0.55, 0.3, 0.15))
        ]
        pcp_specialty = np.where(
            cred_pcp == "NP",
            "Nurse Practitioner",
            np.where(cred_pcp == "PA", "Physician Assistant", md_specialty),
        )
        self.clin_specialty = [*pcp_specialty.tolist(), *spec_names]

        # Practice and facility addresses.
        n_places = self.n_org
        self.org_address = self._street_addresses(n_places)
        self.org_zip = self._zips(self.practice_city)
        self.org_phone = self._phones(self.practice_city)
        self.hospital_city = np.array([[c[0] for c in _CITIES].index(h[1]) for h in _HOSPITALS])
        self.hospital_region = self.city_region[self.hospital_city]
        self.pharmacy_city = np.array([[c[0] for c in _CITIES].index(x[1]) for x in _PHARMACIES])

    def _street_addresses(self, n: int) -> list[str]:
        rng = self.rng
        number = rng.integers(1, 400, size=n) * np.where(rng.random(n) < 0.2, 3, 1)
        street = np.array(_STREETS)[rng.integers(0, len(_STREETS), size=n)]
        from_names = rng.random(n) < 0.35
        en = _NAME_POOLS["en"]
        surname = np.array(en.last_male)[rng.choice(len(en.last_male), n, p=en.last_male_p)]
        street = np.where(from_names, surname, street)
        kind = np.array([k for k, _ in _STREET_TYPES])[_pick(rng, n, [w for _, w in _STREET_TYPES])]
        unit = rng.integers(1, 30, size=n)
        has_unit = rng.random(n) < 0.35
        frame = pl.DataFrame(
            {"no": number, "st": street, "kind": kind, "unit": unit, "has_unit": has_unit}
        )
        return (
            frame.select(
                pl.concat_str(
                    pl.col("no").cast(pl.String),
                    pl.lit(" "),
                    pl.col("st"),
                    pl.lit(" "),
                    pl.col("kind"),
                    pl.when(pl.col("has_unit"))
                    .then(pl.concat_str(pl.lit(" Apt "), pl.col("unit").cast(pl.String)))
                    .otherwise(pl.lit("")),
                )
            )
            .to_series()
            .to_list()
        )

    def _zips(self, city: IntArray) -> IntArray:
        k = np.floor(self.rng.random(len(city)) * self.city_zip_count[city]).astype(np.int64)
        return np.asarray(self.zip_ids[self.city_zip_start[city] + k], dtype=np.int64)

    def _phones(self, city: IntArray) -> list[str]:
        rng = self.rng
        n = len(city)
        which = rng.integers(0, 2, size=n)
        codes = np.array([c[4][0] for c in _CITIES])[city]
        overlay = np.array([c[4][-1] for c in _CITIES])[city]
        area = np.where(which == 1, overlay, codes)
        exchange = rng.integers(201, 1000, size=n)
        # N11 and 555 exchanges are service and fictional numbers, never a household's line.
        bad = (exchange % 100 == 11) | (exchange == 555)
        exchange = np.where(bad, exchange + 1, exchange)
        line = rng.integers(0, 10_000, size=n)
        frame = pl.DataFrame({"a": area, "e": exchange, "l": line})
        return (
            frame.select(
                pl.concat_str(
                    pl.col("a"),
                    pl.lit("-"),
                    pl.col("e").cast(pl.String),
                    pl.lit("-"),
                    pl.col("l").cast(pl.String).str.zfill(4),
                )
            )
            .to_series()
            .to_list()
        )

    # ---------------------------------------------------------------- people
    def _people(self) -> None:
        rng, n = self.rng, self.n
        # Households: about a third of members share a home (and often a surname and a practice)
        # with another member, the everyday source of near-duplicate records.
        follower = rng.random(n) < 0.33
        follower[0] = False
        heads = np.flatnonzero(~follower)
        head = np.arange(n, dtype=np.int64)
        head[follower] = heads[rng.integers(0, len(heads), size=int(follower.sum()))]
        self.head = head

        lang = _pick(rng, n, [x[1] for x in _LANGUAGES])
        lang = lang[head]
        self.lang = lang

        practice = _pick(rng, n, self.practice_size.tolist())
        keep_family_practice = follower & (rng.random(n) < 0.7)
        practice = np.where(keep_family_practice, practice[head], practice)
        self.practice = practice

        # Home city: mostly in the practice's region.
        region_w = np.zeros((len(_REGIONS), len(_CITIES)))
        region_w[self.city_region, np.arange(len(_CITIES))] = self.city_weight
        near = rng.random(n) < 0.8
        member_region = self.city_region[self.practice_city[practice]]
        w = np.where(near[:, None], region_w[member_region], self.city_weight[None, :])
        city = _pick_rows(rng, w)
        city = city[head]
        self.city = city
        address = np.array(self._street_addresses(n), dtype=object)[head]
        self.address = address.tolist()
        self.zip = self._zips(city)[head]
        self.phone = np.array(self._phones(city), dtype=object)[head].tolist()
        self.hospital = np.where(
            rng.random(n) < 0.8,
            _pick_rows(
                rng,
                (self.hospital_region[None, :] == self.city_region[city][:, None]).astype(
                    np.float64
                )
                + 1e-9,
            ),
            rng.integers(0, len(_HOSPITALS), size=n),
        )

        # Age and sex.
        band = _pick(rng, n, [b[2] for b in _AGE_BANDS])
        lo = np.array([b[0] for b in _AGE_BANDS])[band]
        hi = np.array([b[1] for b in _AGE_BANDS])[band]
        age_days = ((lo + rng.random(n) * (hi - lo)) * 365.25).astype(np.int64)
        age_days = np.maximum(age_days, 60)  # newborns join with a claim-free first weeks
        birth = self.today - age_days
        female = rng.random(n) < 0.54

        # A few twins: same birth date and home as their household head.
        candidates = np.flatnonzero(follower)
        n_twins = min(len(candidates), max(1, n // 400))
        twins = rng.choice(candidates, size=n_twins, replace=False) if n_twins else candidates
        birth[twins] = birth[head[twins]]
        self.birth = birth
        self.female = female
        self.age = (self.today - birth) / 365.25

        # Names from the member's language pool.
        first, last = self._names(lang, female)
        keep_surname = follower & (rng.random(n) < 0.8)
        last = np.where(keep_surname, last[head], last)
        # Twins get a different first name from their sibling when the draw collides.
        same = first[twins] == first[head[twins]]
        first[twins[same]] = np.array(["Alex", "Jordan", "Sam", "Chris"], dtype=object)[
            rng.integers(0, 4, size=int(same.sum()))
        ]
        # Many Spanish speakers carry two surnames; plans and EHRs keep one or both.
        spanish = (lang == 1) & (rng.random(n) < 0.3)
        second = self._names(np.full(n, 1), female)[1]
        last = np.where(spanish, last + " " + second, last)
        middle = self._names(lang, female)[0]
        middle[rng.random(n) >= 0.35] = None
        self.middle = middle
        self.first = first
        self.last = last

        race_w = np.array(_RACE_BY_LANGUAGE)[lang]
        eth_w = np.array(_ETHNICITY_BY_LANGUAGE)[lang]
        self.race = _pick_rows(rng, race_w)[head]
        self.ethnicity = _pick_rows(rng, eth_w)[head]
        self.coverage_level = _pick(rng, n, [w for _, w in _COVERAGE_LEVELS])
        self.plan = _pick(rng, n, [w for _, w in _PLANS])
        self.has_email = rng.random(n) < 0.55
        self.email_n = rng.integers(1, 100, size=n)
        self.email_domain = rng.integers(0, len(_EMAIL_DOMAINS), size=n)

        # Identifiers.
        self.member_no = rng.choice(10**11, size=n, replace=False).astype(np.int64) + 10**11
        self.mrn_no = rng.choice(9 * 10**6, size=n, replace=False).astype(np.int64) + 10**6

    def _names(
        self, lang: IntArray, female: BoolArray
    ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
        rng, n = self.rng, len(lang)
        pool_of_lang = np.array([_POOL_KEYS.index(x[2]) for x in _LANGUAGES])[lang]
        first = np.empty(n, dtype=object)
        last = np.empty(n, dtype=object)
        for k, key in enumerate(_POOL_KEYS):
            pool = _NAME_POOLS[key]
            for is_f, names, probs, lasts, lprobs in (
                (True, pool.female, pool.female_p, pool.last_female, pool.last_female_p),
                (False, pool.male, pool.male_p, pool.last_male, pool.last_male_p),
            ):
                idx = np.flatnonzero((pool_of_lang == k) & (female == is_f))
                if len(idx) == 0:
                    continue
                first[idx] = np.array(names, dtype=object)[
                    rng.choice(len(names), len(idx), p=probs)
                ]
                last[idx] = np.array(lasts, dtype=object)[
                    rng.choice(len(lasts), len(idx), p=lprobs)
                ]
        return first, last

    # ---------------------------------------------------------------- conditions
    def _conditions(self) -> None:
        rng, n = self.rng, self.n
        age = self.age
        band = np.select([age < 18, age < 40, age < 65], [0, 1, 2], 3)
        # Shared liabilities make conditions cluster: metabolic, behavioural, respiratory.
        z_met, z_bh, z_resp = rng.standard_normal((3, n))
        liability = {
            "diabetes": z_met, "hypertension": z_met, "heart_failure": z_met, "ckd": z_met,
            "copd": z_resp, "asthma": z_resp, "depression": z_bh, "smi": z_bh, "sud": z_bh,
            "sickle_cell": np.zeros(n), "hiv": 0.5 * z_bh,
        }  # fmt: skip
        black = self.race == _RACES.index("black or african american")
        has = np.zeros((n, _K), dtype=bool)
        u = rng.random((n, _K))

        def with_(name: str) -> FloatArray:
            return has[:, _COND[name]].astype(np.float64)

        # Drawn in dependency order: CKD follows diabetes and hypertension, heart failure
        # follows all three, COPD follows substance use (smoking).
        for name in ("diabetes", "hypertension", "ckd", "heart_failure", "depression", "smi",
                     "sud", "copd", "asthma", "sickle_cell", "hiv"):  # fmt: skip
            k = _COND[name]
            base = np.array(_CONDITIONS[k].prevalence)[band]
            mult = np.exp(0.7 * liability[name] - 0.245)  # mean 1
            if name == "ckd":
                mult *= 1 + 2.5 * with_("diabetes") + 1.2 * with_("hypertension")
            elif name == "heart_failure":
                mult *= 1 + 1.5 * with_("hypertension") + 1.5 * with_("diabetes") + 2 * with_("ckd")
            elif name == "copd":
                mult *= 1 + 1.5 * with_("sud")
            elif name == "sickle_cell":
                base = np.where(black, 0.006, 0.0002)
            has[:, k] = u[:, k] < np.clip(base * mult, 0, 0.9)
        self.has = has

        # Pregnancy during the window: women 16-44; a quarter high risk.
        fertile = self.female & (age >= 16) & (age < 45)
        self.pregnant = fertile & (rng.random(n) < 0.10)
        self.high_risk = self.pregnant & (rng.random(n) < 0.3)
        self.complication = rng.integers(0, len(_PREGNANCY_COMPLICATIONS), size=n)
        # Due date: some deliveries are done, some pregnancies still going on.
        self.due = rng.integers(self.window_start + 120, self.today + 200, size=n)

        # Each condition's standing diagnosis for the member.
        chronic = np.full((n, _K), -1, dtype=np.int64)
        for k, c in enumerate(_CONDITIONS):
            ids = _ICD.ids([x for x, _ in c.chronic])
            pick = ids[_pick(rng, n, [w for _, w in c.chronic])]
            chronic[:, k] = np.where(has[:, k], pick, -1)
        self.chronic = chronic

        # Social needs, more common with serious mental illness and substance use.
        bh = has[:, _COND["smi"]] | has[:, _COND["sud"]]
        social = np.zeros((n, len(_SOCIAL_NEEDS)), dtype=bool)
        social_dx = np.full((n, len(_SOCIAL_NEEDS) + 1), -1, dtype=np.int64)
        for j, (_, share, codes) in enumerate(_SOCIAL_NEEDS):
            p = np.where(bh, share * 3.0, share * 0.85)
            social[:, j] = rng.random(n) < p
            ids = _ICD.ids([x for x, _ in codes])
            social_dx[:, j] = np.where(social[:, j], ids[_pick(rng, n, [w for _, w in codes])], -1)
        lives_alone = (age >= 65) & (rng.random(n) < 0.3)
        social_dx[:, -1] = np.where(lives_alone, _ICD[_LIVING_ALONE], -1)
        self.social = social
        self.social_dx = social_dx
        self.smoker = (has[:, _COND["copd"]] | has[:, _COND["sud"]]) & (rng.random(n) < 0.6)

        # Utilisation frailty: a heavy right tail, the few members who drive most cost.
        self.frailty = rng.gamma(0.8, 1 / 0.8, size=n)
        n_cond = has.sum(axis=1)
        self.catastrophic = rng.random(n) < 0.003 + 0.004 * n_cond

        # Health homes (CB-CMEs) serve members with serious behavioural health needs.
        self.health_home = rng.random(n) < np.where(bh, 0.16, 0.018)

    # ---------------------------------------------------------------- eligibility
    def _coverage(self) -> None:
        rng, n = self.rng, self.n
        ws, today = self.window_start, self.today
        start = np.where(rng.random(n) < 0.62, ws, rng.integers(ws, today - 60, size=n))
        start = np.maximum(start, self.birth)
        start = np.minimum(start, today - 30)
        lost = rng.random(n) < 0.062
        lost_end = rng.integers(today - 540, today - 30, size=n)
        end = np.where(lost, np.maximum(lost_end, start + 60), today)
        end = np.minimum(end, today)
        lost = end < today
        n_spans = 1 + _pick(rng, n, (0.75, 0.2, 0.05))
        length = end - start + 1
        seg = length / n_spans
        n_spans = np.where(seg < 150, 1, n_spans)
        seg = length / n_spans
        S = np.zeros((n, 3), dtype=np.int64)
        E = np.zeros((n, 3), dtype=np.int64)
        V = np.zeros((n, 3), dtype=bool)
        prev_start = start.copy()
        for k in range(3):
            valid = k < n_spans
            last = k == n_spans - 1
            boundary = (start + (k + 1) * seg + (rng.random(n) - 0.5) * seg / 2).astype(np.int64)
            gap = rng.integers(31, 121, size=n)
            gap = np.minimum(gap, (seg / 3).astype(np.int64))
            span_end = np.where(last, end, boundary - 1)
            S[:, k] = prev_start
            E[:, k] = span_end
            V[:, k] = valid
            prev_start = boundary + gap
        S = np.where(V, S, 0)
        E = np.where(V, E, -1)
        self.S, self.E, self.V = S, E, V
        self.L = np.where(V, E - S + 1, 0)
        self.cum = np.cumsum(self.L, axis=1)
        self.covered = self.cum[:, -1]
        self.first_day = S[:, 0]
        self.last_day = np.max(np.where(V, E, -1), axis=1)
        self.lost = lost

    def _place(self, member: IntArray, offset: IntArray) -> tuple[IntArray, IntArray]:
        """Covered-day offset -> (date, span) for each member."""
        cum = self.cum[member]
        span = (offset[:, None] >= cum).sum(axis=1)
        span = np.minimum(span, 2)
        before = np.where(span > 0, cum[np.arange(len(member)), np.maximum(span - 1, 0)], 0)
        day = self.S[member, span] + offset - before
        return day, span

    def _span_of(self, member: IntArray, day: IntArray) -> IntArray:
        inside = (self.S[member] <= day[:, None]) & (day[:, None] <= self.E[member])
        inside &= self.V[member]
        return np.where(inside.any(axis=1), inside.argmax(axis=1), -1)

    def _random_days(self, member: IntArray) -> tuple[IntArray, IntArray]:
        offset = np.floor(self.rng.random(len(member)) * self.covered[member]).astype(np.int64)
        return self._place(member, offset)

    # ---------------------------------------------------------------- attribution
    def _attribution(self) -> None:
        rng, n = self.rng, self.n
        k = np.floor(rng.random(n) * self.pcp_count[self.practice]).astype(np.int64)
        self.pcp = self.off_pcp + self.pcp_start[self.practice] + k
        long_enough = (self.last_day - self.first_day) > 240
        switch = long_enough & (rng.random(n) < 0.05)
        other_practice = rng.random(n) < 0.7
        old_practice = np.where(
            other_practice,
            (self.practice + 1 + rng.integers(0, max(1, self.n_practices - 1), size=n))
            % self.n_practices,
            self.practice,
        )
        k_old = np.floor(rng.random(n) * self.pcp_count[old_practice]).astype(np.int64)
        old_pcp = self.off_pcp + self.pcp_start[old_practice] + k_old
        same = old_pcp == self.pcp
        old_pcp = np.where(
            same,
            self.off_pcp
            + self.pcp_start[old_practice]
            + (k_old + 1) % self.pcp_count[old_practice],
            old_pcp,
        )
        lo = self.first_day + 90
        hi = np.maximum(lo + 1, self.last_day - 30)
        self.switch_day = np.where(
            switch,
            lo + np.floor(rng.random(n) * (hi - lo)).astype(np.int64),
            np.iinfo(np.int64).max,
        )
        self.switched = switch & (old_pcp != self.pcp)
        self.switch_day = np.where(self.switched, self.switch_day, np.iinfo(np.int64).max)
        self.old_practice = old_practice
        self.old_pcp = old_pcp

    # ---------------------------------------------------------------- medical claims
    def _medical_claims(self) -> tuple[_Claims, _Lines]:
        parts = [
            self._office_visits(),
            self._specialist_visits(),
            self._prenatal_visits(),
            *self._emergency_visits(),
            *self._admissions(),
        ]
        claims = _Claims(
            *(
                np.concatenate([getattr(c, f) for c, _ in parts])
                for f in _Claims.__dataclass_fields__
            )
        )
        offsets = np.cumsum([0] + [len(c.member) for c, _ in parts])[:-1]
        lines = _Lines(
            *(
                np.concatenate(
                    [
                        (getattr(ln, f) + off) if f == "claim" else getattr(ln, f)
                        for (_, ln), off in zip(parts, offsets, strict=True)
                    ]
                )
                for f in _Lines.__dataclass_fields__
            )
        )
        # Claims sorted by member and date get their IDs in that order.
        order = np.lexsort((np.arange(len(claims.member)), claims.start, claims.member))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        claims = _Claims(*(getattr(claims, f)[order] for f in _Claims.__dataclass_fields__))
        lines.claim = rank[lines.claim]
        line_order = np.lexsort((np.arange(len(lines.claim)), lines.claim))
        lines = _Lines(*(getattr(lines, f)[line_order] for f in _Lines.__dataclass_fields__))
        claims.dx = _compact_dx(claims.dx)
        return claims, lines

    def _counts(self, rate: FloatArray) -> IntArray:
        lam = rate * self.covered / 365.25
        return np.asarray(self.rng.poisson(lam), dtype=np.int64)

    def _header(
        self, member: IntArray, start: IntArray, end: IntArray, institutional: bool, dx: IntArray
    ) -> _Claims:
        m = len(member)
        z = np.zeros(m, dtype=np.int64)
        dx = np.concatenate([dx, np.full((m, _DX_WIDTH), -1, dtype=np.int64)], axis=1)
        dx = dx[:, :_DX_WIDTH]
        return _Claims(
            member=member,
            institutional=np.full(m, institutional),
            start=start,
            end=end,
            bill_type=z.copy(),
            drg=z - 1,
            admit_source=z.copy(),
            admit_type=z.copy(),
            discharge=z.copy(),
            rendering=z - 1,
            billing=z - 1,
            facility=z - 1,
            dx=dx,
            proc=z - 1,
            office=np.zeros(m, dtype=bool),
        )

    def _secondary_dx(self, member: IntArray, width: int, social_p: float) -> IntArray:
        """The member's standing diagnoses (and social Z codes, sometimes) as extra columns."""
        rng = self.rng
        chronic = self.chronic[member]
        social = np.where(rng.random((len(member), 1)) < social_p, self.social_dx[member], -1)
        smoker = np.where(self.smoker[member], _ICD[_NICOTINE], -1)[:, None]
        extra = np.concatenate([chronic, smoker, social], axis=1)
        extra = _compact_dx(extra)
        return extra[:, :width]

    def _office_visits(self) -> tuple[_Claims, _Lines]:
        rng = self.rng
        age = self.age
        has = self.has
        base = np.select([age < 2, age < 18, age < 65], [3.0, 0.8, 0.6], 1.0)
        extra = has @ np.array([c.office_rate for c in _CONDITIONS])
        rate = (base + extra) * (0.5 + 0.5 * self.frailty)
        # Most members keep a yearly rhythm with their PCP; some come irregularly and some stop
        # coming at all: those are the "not seen in 12-18 months" patients of 004 step 6a.
        style = _pick(rng, self.n, (0.8, 0.1, 0.1))  # regular, irregular, disengaged
        rate = np.where(style == 2, rate * 0.1, rate)
        counts = self._counts(rate)
        member = np.repeat(np.arange(self.n), counts)
        offset = np.floor(rng.random(len(member)) * self.covered[member]).astype(np.int64)
        regular = np.flatnonzero((style == 0) & (self.covered > 0))
        interval = rng.integers(300, 420, size=len(regular))
        first = np.floor(rng.random(len(regular)) * np.minimum(365, self.covered[regular]))
        first = first.astype(np.int64)
        yearly = (self.covered[regular] - first - 1) // interval + 1
        member = np.concatenate([member, np.repeat(regular, yearly)])
        offset = np.concatenate(
            [
                offset,
                np.repeat(first, yearly) + _within_group(yearly) * np.repeat(interval, yearly),
            ]
        )
        day, _ = self._place(member, offset)
        m = len(member)

        # Which practice: before a PCP change the old one.
        before = self.switched[member] & (day < self.switch_day[member])
        practice = np.where(before, self.old_practice[member], self.practice[member])
        own_pcp = np.where(before, self.old_pcp[member], self.pcp[member])
        k = np.floor(rng.random(m) * self.pcp_count[practice]).astype(np.int64)
        colleague = self.off_pcp + self.pcp_start[practice] + k
        rendering = np.where(rng.random(m) < 0.8, own_pcp, colleague)

        # Principal diagnosis: one of the member's conditions, or a preventive/acute visit.
        weights = has[member] * np.array([c.office_rate for c in _CONDITIONS])
        chronic_visit = (weights.sum(axis=1) > 0) & (rng.random(m) < 0.85)
        cond = _pick_rows(rng, weights)
        chronic_dx = self.chronic[member, cond]
        age_m = age[member]
        child = age_m < 18
        preventive = ~chronic_visit & (rng.random(m) < 0.3)
        child_acute = _ICD.ids([x for x, _ in _CHILD_ACUTE])[
            _pick(rng, m, [w for _, w in _CHILD_ACUTE])
        ]
        adult_acute = _ICD.ids([x for x, _ in _ADULT_ACUTE])[
            _pick(rng, m, [w for _, w in _ADULT_ACUTE])
        ]
        abnormal = rng.random(m) < 0.3
        preventive_dx = np.where(
            child,
            np.where(abnormal, _ICD["Z00.121"], _ICD["Z00.129"]),
            np.where(abnormal, _ICD["Z00.01"], _ICD["Z00.00"]),
        )
        principal = np.where(
            chronic_visit,
            chronic_dx,
            np.where(preventive, preventive_dx, np.where(child, child_acute, adult_acute)),
        )
        dx = np.concatenate([principal[:, None], self._secondary_dx(member, 8, 0.4)], axis=1)
        claims = self._header(member, day, day, False, dx)
        claims.rendering = rendering
        claims.billing = practice  # practice entity index
        claims.office = np.ones(m, dtype=bool)

        # E/M code.
        est_chronic = _HCPCS.ids(["99212", "99213", "99214", "99215"])[
            _pick(rng, m, (0.08, 0.35, 0.45, 0.12))
        ]
        est_other = _HCPCS.ids(["99212", "99213", "99214", "99215"])[
            _pick(rng, m, (0.2, 0.55, 0.22, 0.03))
        ]
        new_pt = _HCPCS.ids(["99202", "99203", "99204", "99205"])[
            _pick(rng, m, (0.1, 0.5, 0.35, 0.05))
        ]
        prev_code = _HCPCS.ids(["99391", "99392", "99393", "99394", "99395", "99396", "99397"])[
            np.select(
                [age_m < 1, age_m < 5, age_m < 12, age_m < 18, age_m < 40, age_m < 65],
                [0, 1, 2, 3, 4, 5],
                6,
            )
        ]
        prev_code = np.where((age_m >= 65) & (rng.random(m) < 0.3), _HCPCS["G0439"], prev_code)
        em = np.where(chronic_visit, est_chronic, est_other)
        em = np.where(rng.random(m) < 0.06, new_pt, em)
        em = np.where(preventive, prev_code, em)

        mh = has[member]
        dm, hf = mh[:, _COND["diabetes"]], mh[:, _COND["heart_failure"]]
        htn, copd = mh[:, _COND["hypertension"]], mh[:, _COND["copd"]]
        dep = mh[:, _COND["depression"]] | mh[:, _COND["smi"]]
        any_chronic = mh.any(axis=1)
        adult = ~child
        r = rng.random((m, 10))
        cand = np.stack(
            [
                r[:, 0] < np.where(any_chronic, 0.45, 0.12) * adult,  # 80053
                r[:, 1] < 0.7 * dm,  # 83036
                r[:, 2] < 0.3 * (dm | htn),  # 80061
                r[:, 3] < np.where(any_chronic, 0.2, 0.05),  # 85025
                r[:, 4] < 0.15 * (hf | htn),  # 93000
                r[:, 5] < 0.1 * (hf | copd),  # 71046
                r[:, 6] < 0.5 * dep,  # 96127
                r[:, 7] < 0.2 * self.smoker[member],  # 99406
                r[:, 8] < 0.3 * dm,  # 82043
                r[:, 9] < 0.04 * adult,  # 87389
            ],
            axis=1,
        )
        venipuncture = cand[:, [0, 1, 2, 3, 9]].sum(axis=1) > 0
        codes = _HCPCS.ids(_OFFICE_TESTS)
        include = np.concatenate([np.ones((m, 1), dtype=bool), venipuncture[:, None], cand], axis=1)
        code_matrix = np.concatenate(
            [
                em[:, None],
                np.full((m, 1), _HCPCS["36415"]),
                np.broadcast_to(codes, (m, len(codes))),
            ],
            axis=1,
        )
        lines = self._professional_lines(include, code_matrix, day, _POS["11"])
        return claims, lines

    def _professional_lines(
        self, include: BoolArray, codes: IntArray, day: IntArray, pos: int | IntArray
    ) -> _Lines:
        claim_idx, col = np.nonzero(include)
        hcpcs = codes[claim_idx, col]
        fees = np.array([_FEES[c] for c in _HCPCS.items])
        allowed = np.round(fees[hcpcs] * self.rng.lognormal(0, 0.08, size=len(hcpcs)), 2)
        pos_arr = pos[claim_idx] if isinstance(pos, np.ndarray) else np.full(len(hcpcs), pos)
        d = day[claim_idx]
        return _Lines(
            claim=claim_idx.astype(np.int64),
            hcpcs=hcpcs,
            rev=np.full(len(hcpcs), -1),
            pos=pos_arr.astype(np.int64),
            start=d,
            end=d,
            units=np.ones(len(hcpcs)),
            allowed=allowed,
        )

    def _specialist_visits(self) -> tuple[_Claims, _Lines]:
        rng = self.rng
        has = self.has
        rates = has * np.array([c.specialist_rate for c in _CONDITIONS])
        rate = rates.sum(axis=1) * (0.6 + 0.4 * self.frailty)
        counts = self._counts(rate)
        member = np.repeat(np.arange(self.n), counts)
        cond = _pick_rows(rng, rates[member])
        day, _ = self._random_days(member)
        m = len(member)
        specialty = np.array([_CONDITIONS[k].specialty for k in range(_K)])[cond]
        rendering = self._choose_specialist(specialty)
        principal = self.chronic[member, cond]
        dx = np.concatenate([principal[:, None], self._secondary_dx(member, 3, 0.1)], axis=1)
        claims = self._header(member, day, day, False, dx)
        claims.rendering = rendering
        claims.billing = rendering

        psych = specialty == "Psychiatry"
        psych_code = _HCPCS.ids(["90792", "90834", "90837", "99214"])[
            _pick(rng, m, (0.1, 0.45, 0.2, 0.25))
        ]
        em = _HCPCS.ids(["99213", "99214", "99215", "99204"])[
            _pick(rng, m, (0.42, 0.42, 0.08, 0.08))
        ]
        first_code = np.where(psych, psych_code, em)
        test = np.array(
            [
                _HCPCS[_SPECIALTY_TESTS[s]] if _SPECIALTY_TESTS.get(s) else -1
                for s in (c.specialty for c in _CONDITIONS)
            ]
        )[cond]
        include = np.stack([np.ones(m, dtype=bool), (test >= 0) & (rng.random(m) < 0.4)], axis=1)
        code_matrix = np.stack([first_code, test], axis=1)
        pos = np.where(rng.random(m) < 0.3, _POS["22"], _POS["11"])
        lines = self._professional_lines(include, code_matrix, day, pos)
        return claims, lines

    def _prenatal_visits(self) -> tuple[_Claims, _Lines]:
        rng = self.rng
        women = np.flatnonzero(self.pregnant)
        per = 11
        member = np.repeat(women, per)
        j = np.tile(np.arange(per), len(women))
        conception = self.due[member] - 280
        day = conception + 40 + j * 22 + rng.integers(-4, 5, size=len(member))
        keep = (day < self.due[member]) & (day <= self.today)
        keep &= self._span_of(member, day) >= 0
        member, j, day, conception = member[keep], j[keep], day[keep], conception[keep]
        m = len(member)
        trimester = np.select([day - conception < 98, day - conception < 196], [0, 1], 2)
        hr = self.high_risk[member]
        principal = np.where(
            hr, _ICD.ids(list(_HIGH_RISK_PRENATAL))[trimester], _ICD.ids(list(_PRENATAL))[trimester]
        )
        complication = np.where(
            hr, _ICD.ids([a for a, _ in _PREGNANCY_COMPLICATIONS])[self.complication[member]], -1
        )
        dx = np.concatenate(
            [principal[:, None], complication[:, None], self._secondary_dx(member, 3, 0.3)], axis=1
        )
        claims = self._header(member, day, day, False, dx)
        ob = self._choose_specialist(np.full(len(women), "Obstetrics & Gynecology"))
        claims.rendering = ob[np.searchsorted(women, member)]
        claims.billing = claims.rendering
        em = np.where(hr, _HCPCS["99214"], _HCPCS["99213"])
        first = j == 0
        include = np.stack([np.ones(m, dtype=bool), first, first, first, j == 6], axis=1)
        codes = np.stack(
            [
                em,
                np.full(m, _HCPCS["81025"]),
                np.full(m, _HCPCS["36415"]),
                np.full(m, _HCPCS["85025"]),
                np.full(m, _HCPCS["76805"]),
            ],
            axis=1,
        )
        lines = self._professional_lines(include, codes, day, _POS["11"])
        return claims, lines

    def _choose_specialist(self, specialty: npt.NDArray[np.str_]) -> IntArray:
        out = np.empty(len(specialty), dtype=np.int64)
        for s, members in self.specialty_members.items():
            idx = np.flatnonzero(specialty == s)
            out[idx] = members[self.rng.integers(0, len(members), size=len(idx))]
        return out

    def _hospital_doctor(self, hospital: IntArray, specialty: str) -> IntArray:
        # Three per hospital, laid out hospital by hospital (see _organizations).
        k = _HOSPITAL_SPECIALTIES.index(specialty)
        first = self.off_spec + hospital * 3 * len(_HOSPITAL_SPECIALTIES) + k * 3
        return first + self.rng.integers(0, 3, size=len(hospital))

    def _emergency_visits(self) -> list[tuple[_Claims, _Lines]]:
        rng = self.rng
        has = self.has
        weights = has * np.array([c.ed_rate for c in _CONDITIONS])
        base = 0.22
        rate = (base + weights.sum(axis=1)) * self.frailty
        counts = self._counts(rate)
        member = np.repeat(np.arange(self.n), counts)
        m = len(member)
        day, _ = self._random_days(member)
        w = np.concatenate([np.full((m, 1), base), weights[member]], axis=1)
        cause = _pick_rows(rng, w) - 1  # -1: not condition-driven
        principal = _ICD.ids([x for x, _ in _GENERIC_ED])[
            _pick(rng, m, [x for _, x in _GENERIC_ED])
        ]
        for k, c in enumerate(_CONDITIONS):
            idx = np.flatnonzero(cause == k)
            acute = _ICD.ids([x for x, _ in c.acute])
            principal[idx] = acute[_pick(rng, len(idx), [x for _, x in c.acute])]
        dx = np.concatenate([principal[:, None], self._secondary_dx(member, 4, 0.3)], axis=1)
        hospital = self.hospital[member]
        level = np.where(
            cause >= 0,
            _pick(rng, m, (0.0, 0.05, 0.25, 0.4, 0.3)),
            _pick(rng, m, (0.06, 0.2, 0.4, 0.24, 0.1)),
        )
        em_codes = ["99281", "99282", "99283", "99284", "99285"]
        em = _HCPCS.ids(em_codes)[level]

        # Facility claim (bill type 131).
        fac = self._header(member, day, day, True, dx)
        fac.bill_type[:] = 2
        fac.discharge[:] = 1
        fac.billing = self.off_hosp + hospital
        fac.facility = fac.billing
        fac.rendering = self._hospital_doctor(hospital, "Emergency Medicine")
        r = rng.random((m, 4))
        include = np.stack(
            [np.ones(m, dtype=bool), r[:, 0] < 0.6, r[:, 1] < 0.35, r[:, 2] < 0.3, r[:, 3] < 0.5],
            axis=1,
        )
        ci, col = np.nonzero(include)
        rev = _REV.ids(["0450", "0300", "0324", "0730", "0250"])[col]
        hcpcs_cols = np.stack(
            [
                em,
                np.full(m, _HCPCS["80053"]),
                np.full(m, _HCPCS["71046"]),
                np.full(m, _HCPCS["93005"]),
                np.full(m, -1),
            ],
            axis=1,
        )
        fee = np.array([0.0, 90.0, 140.0, 60.0, 80.0])[col]
        fee = np.where(col == 0, np.array([_ED_FACILITY[c] for c in em_codes])[level[ci]], fee)
        fac_lines = _Lines(
            claim=ci.astype(np.int64),
            hcpcs=hcpcs_cols[ci, col],
            rev=rev,
            pos=np.full(len(ci), -1),
            start=day[ci],
            end=day[ci],
            units=np.ones(len(ci)),
            allowed=np.round(fee * rng.lognormal(0, 0.15, size=len(ci)), 2),
        )
        # Professional claim (POS 23) by the ED physician.
        prof = self._header(member, day, day, False, dx.copy())
        prof.rendering = fac.rendering
        prof.billing = fac.billing
        prof.facility = fac.billing
        prof_lines = self._professional_lines(
            np.ones((m, 1), dtype=bool), em[:, None], day, _POS["23"]
        )
        return [(fac, fac_lines), (prof, prof_lines)]

    def _admissions(self) -> list[tuple[_Claims, _Lines]]:
        rng, n = self.rng, self.n
        has = self.has
        weights = has * np.array([c.ip_rate for c in _CONDITIONS])
        base = 0.008
        rate = (base + weights.sum(axis=1)) * self.frailty
        counts = self._counts(rate)
        member = np.repeat(np.arange(n), counts)
        m = len(member)
        day, _ = self._random_days(member)
        w = np.concatenate([np.full((m, 1), base), weights[member]], axis=1)
        cause = _pick_rows(rng, w) - 1
        principal = _ICD.ids([x for x, _ in _GENERIC_ADMISSION])[
            _pick(rng, m, [x for _, x in _GENERIC_ADMISSION])
        ]
        for k, c in enumerate(_CONDITIONS):
            idx = np.flatnonzero(cause == k)
            acute = _ICD.ids([x for x, _ in c.acute])
            principal[idx] = acute[_pick(rng, len(idx), [x for _, x in c.acute])]
        readmit_p = np.where(
            cause >= 0, np.array([c.readmit for c in _CONDITIONS])[np.maximum(cause, 0)], 0.1
        )
        kind = np.zeros(m, dtype=np.int64)  # 0 medical, 1 delivery

        # Catastrophic stays: long sepsis admissions, the top of the cost curve.
        cat = np.flatnonzero(self.catastrophic & (self.covered > 60))
        cat_day, _ = self._random_days(cat)

        # Deliveries and high-risk antepartum stays.
        preg = np.flatnonzero(self.pregnant & (self.due <= self.today))
        delivery_day = self.due[preg]
        delivered = self._span_of(preg, delivery_day) >= 0
        preg, delivery_day = preg[delivered], delivery_day[delivered]
        hr = self.high_risk[preg]
        cesarean = rng.random(len(preg)) < 0.32
        comp = self.complication[preg]
        childbirth_dx = np.where(
            hr,
            _ICD.ids([b for _, b in _PREGNANCY_COMPLICATIONS])[comp],
            np.where(cesarean, _ICD["O82"], _ICD["O80"]),
        )
        delivery_drg = np.where(
            cesarean, np.where(hr, _DRG["787"], _DRG["788"]), np.where(hr, _DRG["806"], _DRG["807"])
        )
        ante = np.flatnonzero(self.high_risk & (rng.random(n) < 0.35))
        ante_day = self.due[ante] - rng.integers(20, 100, size=len(ante))
        ok = (self._span_of(ante, ante_day) >= 0) & (ante_day <= self.today)
        ante, ante_day = ante[ok], ante_day[ok]
        ante_dx = _ICD.ids([a for a, _ in _PREGNANCY_COMPLICATIONS])[self.complication[ante]]

        members = np.concatenate([member, cat, preg, ante])
        admit = np.concatenate([day, cat_day, delivery_day, ante_day])
        principal = np.concatenate(
            [principal, np.full(len(cat), _ICD[_SEPSIS]), childbirth_dx, ante_dx]
        )
        kind = np.concatenate(
            [
                kind,
                np.zeros(len(cat), dtype=np.int64),
                np.ones(len(preg), dtype=np.int64),
                np.zeros(len(ante), dtype=np.int64),
            ]
        )
        readmit_p = np.concatenate(
            [readmit_p, np.full(len(cat), 0.2), np.zeros(len(preg)), np.full(len(ante), 0.1)]
        )
        drg = self._drg_for(principal)
        drg[len(member) + len(cat) : len(member) + len(cat) + len(preg)] = delivery_drg
        cesarean_all = np.zeros(len(members), dtype=bool)
        cesarean_all[len(member) + len(cat) : len(member) + len(cat) + len(preg)] = cesarean
        long_stay = np.zeros(len(members), dtype=bool)
        long_stay[len(member) : len(member) + len(cat)] = True

        # 30-day readmissions: a second stay 2-29 days after discharge, same coverage span.
        los = self._length_of_stay(drg, long_stay)
        admit, los = self._fit_stay(members, admit, los)
        again = rng.random(len(members)) < readmit_p
        r_member = members[again]
        r_admit = admit[again] + los[again] + rng.integers(2, 30, size=int(again.sum()))
        r_principal = principal[again]
        r_drg = self._drg_for(r_principal)
        r_los = self._length_of_stay(r_drg, np.zeros(len(r_member), dtype=bool))
        r_span = self._span_of(r_member, r_admit)
        r_ok = (r_span >= 0) & (
            r_admit + r_los <= np.where(r_span >= 0, self.E[r_member, np.maximum(r_span, 0)], -1)
        )
        members = np.concatenate([members, r_member[r_ok]])
        admit = np.concatenate([admit, r_admit[r_ok]])
        los = np.concatenate([los, r_los[r_ok]])
        principal = np.concatenate([principal, r_principal[r_ok]])
        drg = np.concatenate([drg, r_drg[r_ok]])
        kind = np.concatenate([kind, np.zeros(int(r_ok.sum()), dtype=np.int64)])
        cesarean_all = np.concatenate([cesarean_all, np.zeros(int(r_ok.sum()), dtype=bool)])
        long_stay = np.concatenate([long_stay, np.zeros(int(r_ok.sum()), dtype=bool)])
        # One bed at a time: drop a stay that starts before an earlier one of the member ended.
        order = np.lexsort((admit, members))
        m_o, a_o, d_o = members[order], admit[order], (admit + los)[order]
        shift = m_o * 10**7  # per-member running maximum via one cumulative max
        latest_end = np.maximum.accumulate(shift + d_o) - shift
        overlaps = np.zeros(len(order), dtype=bool)
        overlaps[1:] = (m_o[1:] == m_o[:-1]) & (a_o[1:] <= latest_end[:-1])
        idx = order[~overlaps]
        return self._inpatient_claims(
            members[idx],
            admit[idx],
            los[idx],
            principal[idx],
            drg[idx],
            kind[idx],
            cesarean_all[idx],
            long_stay[idx],
        )

    def _drg_for(self, principal: IntArray) -> IntArray:
        out = np.full(len(principal), -1, dtype=np.int64)
        u = self.rng.random(len(principal))
        for code, choices in _ADMISSION_DRGS.items():
            idx = np.flatnonzero(principal == _ICD[code])
            if len(idx) == 0:
                continue
            cum = np.cumsum(_p([w for _, w in choices]))
            pick = np.minimum(np.searchsorted(cum, u[idx], side="right"), len(choices) - 1)
            out[idx] = _DRG.ids([d for d, _ in choices])[pick]
        return out

    def _length_of_stay(self, drg: IntArray, long_stay: BoolArray) -> IntArray:
        mean = np.array([_DRGS[d][1] for d in _DRG.items])[np.maximum(drg, 0)]
        los = 1 + self.rng.poisson(np.maximum(mean - 1, 0.2))
        los = np.where(long_stay, self.rng.integers(12, 45, size=len(drg)), np.minimum(los, 30))
        return los.astype(np.int64)

    def _fit_stay(
        self, member: IntArray, admit: IntArray, los: IntArray
    ) -> tuple[IntArray, IntArray]:
        span = self._span_of(member, admit)
        span = np.maximum(span, 0)
        s, e = self.S[member, span], self.E[member, span]
        los = np.minimum(los, e - s)
        admit = np.clip(admit, s, e - los)
        return admit, los

    def _inpatient_claims(
        self,
        member: IntArray,
        admit: IntArray,
        los: IntArray,
        principal: IntArray,
        drg: IntArray,
        kind: IntArray,
        cesarean: BoolArray,
        long_stay: BoolArray,
    ) -> list[tuple[_Claims, _Lines]]:
        rng = self.rng
        m = len(member)
        discharge_day = admit + los
        hospital = np.where(
            rng.random(m) < 0.85, self.hospital[member], rng.integers(0, len(_HOSPITALS), size=m)
        )
        delivery = kind == 1
        secondary = self._secondary_dx(member, 10, 0.6)
        z37 = np.where(delivery, _ICD["Z37.0"], -1)[:, None]
        dx = np.concatenate([principal[:, None], z37, secondary], axis=1)[:, :12]
        drg_code = np.array(_DRG.items)[drg]
        psych = np.isin(drg_code, list(_PSYCH_DRGS))
        via_ed = ~delivery & (rng.random(m) < 0.75)

        fac = self._header(member, admit, discharge_day, True, dx)
        fac.bill_type[:] = 1
        fac.drg = drg
        fac.admit_source = np.where(via_ed, 7, 1)
        fac.admit_type = np.where(via_ed, 1, 2)
        sud = np.isin(drg_code, ["896", "897"])
        fac.discharge = np.select(
            [sud & (rng.random(m) < 0.15), self.age[member] >= 65, rng.random(m) < 0.1],
            [7, np.where(rng.random(m) < 0.5, 3, 6), 6],
            1,
        )
        fac.billing = self.off_hosp + hospital
        fac.facility = fac.billing
        attending = np.where(
            psych,
            self._choose_specialist(np.full(m, "Psychiatry")),
            np.where(
                delivery,
                self._choose_specialist(np.full(m, "Obstetrics & Gynecology")),
                self._hospital_doctor(hospital, "Hospital Medicine"),
            ),
        )
        fac.rendering = attending
        fac.proc = np.where(
            delivery, np.where(cesarean, _PCS[_CESAREAN_PCS], _PCS[_VAGINAL_DELIVERY_PCS]), -1
        )

        # Facility lines: room and board for each night, pharmacy, lab, ED, labor and delivery.
        weight = np.array([_DRGS[d][0] for d in _DRG.items])[drg]
        mean_los = np.array([_DRGS[d][1] for d in _DRG.items])[drg]
        outlier_days = np.maximum(0, los - 2 * mean_los)
        total = _DRG_BASE_RATE * weight * rng.lognormal(0, 0.12, size=m) + 2_800 * outlier_days
        total = np.where(long_stay, total * 2.2, total)  # ICU days and outlier payments
        rb_rev = _REV.ids([_DRGS[d][2] for d in _DRG.items])[drg]
        include = np.stack(
            [
                np.ones(m, dtype=bool),
                np.ones(m, dtype=bool),
                np.ones(m, dtype=bool),
                via_ed,
                delivery,
            ],
            axis=1,
        )
        share = np.array([0.6, 0.14, 0.12, 0.06, 0.08])
        share_m = include * share
        share_m = share_m / share_m.sum(axis=1, keepdims=True)
        ci, col = np.nonzero(include)
        rev_cols = np.stack(
            [
                rb_rev,
                np.full(m, _REV["0250"]),
                np.full(m, _REV["0300"]),
                np.full(m, _REV["0450"]),
                np.full(m, _REV["0720"]),
            ],
            axis=1,
        )
        units = np.where(col == 0, np.maximum(los[ci], 1), 1).astype(np.float64)
        fac_lines = _Lines(
            claim=ci.astype(np.int64),
            hcpcs=np.full(len(ci), -1),
            rev=rev_cols[ci, col],
            pos=np.full(len(ci), -1),
            start=admit[ci],
            end=discharge_day[ci],
            units=units,
            allowed=np.round(total[ci] * share_m[ci, col], 2),
        )

        # Professional: the attending's daily visits (capped) or the delivery.
        prof = self._header(member, admit, discharge_day, False, dx.copy())
        prof.rendering = attending
        prof.billing = attending
        prof.facility = fac.billing
        days = np.minimum(los, 10) + 1  # admission day .. discharge day, capped
        days = np.where(los == 0, 1, days)
        pi = np.repeat(np.arange(m), days)
        d = _within_group(days)
        last = d == days[pi] - 1
        first = d == 0
        initial = _HCPCS.ids(["99222", "99223"])[_pick(rng, len(pi), (0.5, 0.5))]
        subsequent = _HCPCS.ids(["99231", "99232", "99233"])[_pick(rng, len(pi), (0.2, 0.55, 0.25))]
        discharge_code = _HCPCS.ids(["99238", "99239"])[_pick(rng, len(pi), (0.7, 0.3))]
        code = np.where(first, initial, np.where(last & (d > 0), discharge_code, subsequent))
        deliv = delivery[pi] & first
        code = np.where(deliv, np.where(cesarean[pi], _HCPCS["59514"], _HCPCS["59409"]), code)
        service_day = np.where(last & (d > 0), discharge_day[pi], admit[pi] + d)
        fees = np.array([_FEES[c] for c in _HCPCS.items])
        prof_lines = _Lines(
            claim=pi.astype(np.int64),
            hcpcs=code,
            rev=np.full(len(pi), -1),
            pos=np.full(len(pi), _POS["21"]),
            start=service_day,
            end=service_day,
            units=np.ones(len(pi)),
            allowed=np.round(fees[code] * rng.lognormal(0, 0.08, size=len(pi)), 2),
        )
        return [(fac, fac_lines), (prof, prof_lines)]

    # ---------------------------------------------------------------- pharmacy
    def _pharmacy_claims(self) -> pl.DataFrame:
        rng, n = self.rng, self.n
        has = self.has
        parts: list[tuple[IntArray, int, IntArray, IntArray, IntArray, FloatArray]] = []
        for j, drug in enumerate(_DRUGS):
            u = rng.random(n)
            on = np.zeros(n, dtype=bool)
            for cond, share in drug.conditions:
                on |= has[:, _COND[cond]] & (u < share)
            members = np.flatnonzero(on & (self.covered > 30))
            k = len(members)
            ninety = (rng.random(k) < 0.3) & drug.allow_90
            supply = np.where(ninety, 90, 30)
            interval = np.maximum(
                supply * (drug.refill_gap + rng.exponential(0.12, size=k)), supply
            ).astype(np.int64)
            first = np.floor(rng.random(k) * np.minimum(90, self.covered[members])).astype(np.int64)
            fills = np.maximum(0, (self.covered[members] - first - 1) // interval + 1)
            fm = np.repeat(members, fills)
            nth = _within_group(fills)
            offset = np.repeat(first, fills) + nth * np.repeat(interval, fills)
            day, _ = self._place(fm, offset)
            sup = np.repeat(supply, fills)
            if drug.specialty:
                prescriber = np.where(
                    rng.random(len(fm)) < 0.85,
                    np.repeat(self._choose_specialist(np.full(k, drug.specialty)), fills),
                    self.pcp[fm],
                )
            else:
                prescriber = self.pcp[fm]
            parts.append(
                (
                    fm,
                    j,
                    day,
                    sup,
                    prescriber,
                    drug.allowed * sup / 30 * rng.lognormal(0, 0.05, size=len(fm)),
                )
            )
        member = np.concatenate([p[0] for p in parts])
        drug_idx = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
        day = np.concatenate([p[2] for p in parts])
        supply = np.concatenate([p[3] for p in parts])
        prescriber = np.concatenate([p[4] for p in parts])
        allowed = np.round(np.concatenate([p[5] for p in parts]), 2)
        order = np.lexsort((drug_idx, day, member))
        member, drug_idx, day, supply = member[order], drug_idx[order], day[order], supply[order]
        prescriber, allowed = prescriber[order], allowed[order]
        m = len(member)
        quantity = np.array([d.quantity for d in _DRUGS])[drug_idx] * supply // 30
        pharmacy = self.off_pharm + np.where(
            rng.random(m) < 0.8,
            _pick_rows(
                rng,
                (
                    self.city_region[self.pharmacy_city][None, :]
                    == self.city_region[self.city[member]][:, None]
                ).astype(np.float64)
                + 1e-9,
            ),
            rng.integers(0, len(_PHARMACIES), size=m),
        )
        paid_day = np.minimum(day + rng.integers(1, 15, size=m), self.today)
        charge = np.round(allowed * rng.uniform(1.1, 1.6, size=m), 2)
        frame = pl.DataFrame(
            [
                _ids("RX", np.arange(1, m + 1), 10, "claim_id"),
                pl.Series("claim_line_number", np.ones(m, dtype=np.int32)),
                self._person_ids(member),
                self._member_ids(member),
                _constant("payer", PAYER, m),
                self._plans(member),
                self.npi.gather(prescriber).alias("prescribing_provider_npi"),
                self.npi.gather(pharmacy).alias("dispensing_provider_npi"),
                _dates("dispensing_date", day),
                _NDC.strings("ndc_code", drug_idx),
                pl.Series("quantity", quantity.astype(np.int32)),
                pl.Series("days_supply", supply.astype(np.int32)),
                pl.Series("refills", rng.integers(0, 6, size=m).astype(np.int32)),
                _dates("paid_date", paid_day),
                pl.Series("paid_amount", allowed),
                pl.Series("allowed_amount", allowed),
                pl.Series("charge_amount", charge),
                pl.Series("coinsurance_amount", np.zeros(m)),
                pl.Series("copayment_amount", np.zeros(m)),
                pl.Series("deductible_amount", np.zeros(m)),
                pl.Series("in_network_flag", np.ones(m, dtype=bool)),
            ]
        )
        frame = frame.with_columns(self._file_columns("pharmacy_claims"))
        return _conform(frame, polars_schema("pharmacy_claim"))

    # ---------------------------------------------------------------- frames
    def _person_ids(self, member: IntArray) -> pl.Series:
        return _ids("P", member + 1, 7, "person_id")

    def _member_ids(self, member: IntArray) -> pl.Series:
        return pl.Series("member_id", self.member_no[member]).cast(pl.String)

    def _plans(self, member: IntArray) -> pl.Series:
        return _Vocab(p for p, _ in _PLANS).strings("plan", self.plan[member])

    def _file_columns(self, stem: str) -> list[pl.Expr]:
        ingest = datetime.combine(self.as_of + timedelta(days=1), datetime.min.time()).replace(
            hour=6, minute=15
        )
        return [
            pl.lit(DATA_SOURCE).alias("data_source"),
            pl.lit(f"bschp_{stem}_{self.as_of:%Y%m%d}.csv").alias("file_name"),
            pl.lit(self.as_of).alias("file_date"),
            pl.lit(ingest).cast(pl.Datetime("us")).alias("ingest_datetime"),
        ]

    def _eligibility_frame(self) -> pl.DataFrame:
        member_k = np.nonzero(self.V)
        member, k = member_k[0].astype(np.int64), member_k[1]
        start, end = self.S[member, k], self.E[member, k]
        people = self._people_frame().select(
            "first_name",
            "last_name",
            "address",
            "city",
            "zip_code",
            "phone",
            "email",
            "race",
            "ethnicity",
            "middle_name",
            "gender",
        )
        frame = pl.DataFrame(
            [
                self._person_ids(member),
                self._member_ids(member),
                self._member_ids(member).alias("subscriber_id"),
                _dates("birth_date", self.birth[member]),
                pl.Series("death_flag", np.zeros(len(member), dtype=bool)),
                _dates("enrollment_start_date", start),
                _dates("enrollment_end_date", end),
                _constant("payer", PAYER, len(member)),
                _constant("payer_type", PAYER_TYPE, len(member)),
                self._plans(member),
                _where("subscriber_relation", self.age[member] < 19, "child", "self"),
                _constant("state", "MA", len(member)),
            ]
        ).hstack(people.select(pl.all().gather(member)))
        frame = frame.with_columns(self._file_columns("eligibility"))
        return _conform(frame, polars_schema("eligibility"))

    def _people_frame(self) -> pl.DataFrame:
        if self._people_cache is not None:
            return self._people_cache
        city = np.array([c[0] for c in _CITIES])[self.city]
        frame = pl.DataFrame(
            {
                "first_name": pl.Series(self.first.tolist(), dtype=pl.String),
                "middle_name": pl.Series(self.middle.tolist(), dtype=pl.String),
                "last_name": pl.Series(self.last.tolist(), dtype=pl.String),
                "address": pl.Series(self.address, dtype=pl.String),
                "city": pl.Series(city.tolist(), dtype=pl.String),
                "zip_code": self.zip_vocab.strings("zip_code", self.zip),
                "phone": pl.Series(self.phone, dtype=pl.String),
                "race": _Vocab(_RACES).strings("race", self.race),
                "ethnicity": _Vocab(_ETHNICITIES).strings("ethnicity", self.ethnicity),
                "gender": pl.Series(
                    np.where(self.female, "female", "male").tolist(), dtype=pl.String
                ),
                "has_email": self.has_email,
                "email_n": self.email_n,
                "domain": _Vocab(_EMAIL_DOMAINS).strings("domain", self.email_domain),
            }
        )
        ascii_name = (
            pl.concat_str(pl.col("first_name"), pl.lit("."), pl.col("last_name"))
            .str.normalize("NFKD")
            .str.to_lowercase()
            .str.replace_all(r"[^a-z.]", "")
        )
        frame = frame.with_columns(
            pl.when(pl.col("has_email"))
            .then(
                pl.concat_str(
                    ascii_name, pl.col("email_n").cast(pl.String), pl.lit("@"), pl.col("domain")
                )
            )
            .otherwise(None)
            .alias("email")
        ).drop("has_email", "email_n", "domain")
        self._people_cache = frame
        return frame

    def _medical_frame(self, claims: _Claims, lines: _Lines) -> pl.DataFrame:
        c = lines.claim
        n_lines = len(c)
        line_no = _within_group(np.bincount(c, minlength=len(claims.member))) + 1
        member = claims.member[c]
        inst = claims.institutional[c]
        inpatient = claims.bill_type[c] == 1
        bill = np.array([None, "111", "131"], dtype=object)[claims.bill_type[c]]
        one_digit = np.array([None, "1", "2", "3", "4", "5", "6", "7"], dtype=object)
        disch = claims.discharge[c]
        disch_str = np.array([None, "01", "02", "03", "04", "05", "06", "07"], dtype=object)[disch]
        paid_lag = self.rng.integers(14, 60, size=len(claims.member))
        paid_day = np.minimum(claims.end + paid_lag, self.today)[c]
        charge = np.round(lines.allowed * self.rng.uniform(1.8, 3.2, size=n_lines), 2)
        dx = claims.dx[c]
        frame_cols: list[pl.Series] = [
            _ids("MC", c + 1, 10, "claim_id"),
            pl.Series("claim_line_number", line_no.astype(np.int32)),
            _where("claim_type", inst, "institutional", "professional"),
            self._person_ids(member),
            self._member_ids(member),
            _constant("payer", PAYER, n_lines),
            self._plans(member),
            _dates("claim_start_date", claims.start[c]),
            _dates("claim_end_date", claims.end[c]),
            _dates("claim_line_start_date", lines.start),
            _dates("claim_line_end_date", lines.end),
            _dates("admission_date", claims.start[c], inpatient),
            _dates("discharge_date", claims.end[c], inpatient),
            pl.Series(
                "admit_source_code", one_digit[claims.admit_source[c]].tolist(), dtype=pl.String
            ),
            pl.Series("admit_type_code", one_digit[claims.admit_type[c]].tolist(), dtype=pl.String),
            pl.Series("discharge_disposition_code", disch_str.tolist(), dtype=pl.String),
            _POS.strings("place_of_service_code", lines.pos),
            pl.Series("bill_type_code", bill.tolist(), dtype=pl.String),
            _where("drg_code_type", inpatient, "ms-drg"),
            _DRG.strings("drg_code", claims.drg[c]),
            _REV.strings("revenue_center_code", lines.rev),
            pl.Series("service_unit_quantity", lines.units),
            _HCPCS.strings("hcpcs_code", lines.hcpcs),
            self.npi.gather(_nullable_index(claims.rendering[c])).alias("rendering_npi"),
            self.npi.gather(_nullable_index(claims.billing[c])).alias("billing_npi"),
            self.npi.gather(_nullable_index(claims.facility[c])).alias("facility_npi"),
            _dates("paid_date", paid_day),
            pl.Series("paid_amount", lines.allowed),
            pl.Series("allowed_amount", lines.allowed),
            pl.Series("charge_amount", charge),
            pl.Series("coinsurance_amount", np.zeros(n_lines)),
            pl.Series("copayment_amount", np.zeros(n_lines)),
            pl.Series("deductible_amount", np.zeros(n_lines)),
            pl.Series("total_cost_amount", lines.allowed),
            _constant("diagnosis_code_type", "icd-10-cm", n_lines),
        ]
        for i in range(dx.shape[1]):
            frame_cols.append(_ICD.strings(f"diagnosis_code_{i + 1}", dx[:, i]))
            poa = inpatient & (dx[:, i] >= 0)
            frame_cols.append(_where(f"diagnosis_poa_{i + 1}", poa, "Y"))
        proc = claims.proc[c]
        frame_cols += [
            _where("procedure_code_type", proc >= 0, "icd-10-pcs"),
            _PCS.strings("procedure_code_1", proc),
            _dates("procedure_date_1", claims.start[c], proc >= 0),
            pl.Series("in_network_flag", np.ones(n_lines, dtype=bool)),
        ]
        frame = pl.DataFrame(frame_cols).with_columns(self._file_columns("medical_claims"))
        return _conform(frame, polars_schema("medical_claim"))

    def _practices_frame(self) -> pl.DataFrame:
        count = self.n_org
        ids = [f"PR{i + 1:04d}" for i in range(count)]
        frame = pl.DataFrame(
            {
                "practice_id": ids,
                "kind": self.practice_kind,
                "name": self.practice_names,
                "npi": self.npi.slice(0, count),
                "address": self.org_address,
                "city": [_CITIES[c][0] for c in self.practice_city.tolist()],
                "state": ["MA"] * count,
                "zip_code": self.zip_vocab.strings("zip_code", self.org_zip),
                "phone": self.org_phone,
            }
        )
        return _conform(frame, _OWN_SCHEMA["practices"])

    def _providers_frame(self) -> pl.DataFrame:
        n_people = self.n_pcp + self.n_spec
        practice_ids = [f"PR{p + 1:04d}" for p in self.pcp_practice.tolist()] + [None] * (
            self.n_spec + len(_HOSPITALS) + len(_PHARMACIES)
        )
        first = self.clin_first + [None] * (len(_HOSPITALS) + len(_PHARMACIES))
        last = self.clin_last + [None] * (len(_HOSPITALS) + len(_PHARMACIES))
        credential = self.clin_credential + [None] * (len(_HOSPITALS) + len(_PHARMACIES))
        role = (
            ["pcp"] * self.n_pcp
            + ["specialist"] * self.n_spec
            + ["facility"] * (len(_HOSPITALS) + len(_PHARMACIES))
        )
        specialty = (
            self.clin_specialty
            + ["Acute Care Hospital"] * len(_HOSPITALS)
            + ["Pharmacy"] * len(_PHARMACIES)
        )
        display = [
            f"{f} {ln}, {c}"
            for f, ln, c in zip(self.clin_first, self.clin_last, self.clin_credential, strict=True)
        ]
        display += [h for h, _ in _HOSPITALS] + [x for x, _ in _PHARMACIES]
        frame = pl.DataFrame(
            {
                "npi": self.npi.slice(self.off_pcp, n_people + len(_HOSPITALS) + len(_PHARMACIES)),
                "first_name": pl.Series(first, dtype=pl.String),
                "last_name": pl.Series(last, dtype=pl.String),
                "credential": pl.Series(credential, dtype=pl.String),
                "practice_id": pl.Series(practice_ids, dtype=pl.String),
                "role": role,
                "specialty": specialty,
                "name": display,
            }
        )
        return _conform(frame, _OWN_SCHEMA["providers"])

    def _members_frame(self, claims: _Claims) -> pl.DataFrame:
        n = self.n
        member = np.arange(n, dtype=np.int64)
        # last_seen_date: latest office visit billed by the member's current practice.
        seen = claims.office & (claims.billing == self.practice[claims.member])
        last_seen = np.full(n, np.iinfo(np.int64).min)
        np.maximum.at(last_seen, claims.member[seen], claims.start[seen])
        has_seen = last_seen > np.iinfo(np.int64).min
        style = self.practice_mrn_style[self.practice]
        mrn_digits = pl.Series(self.mrn_no).cast(pl.String)
        mrn = (
            pl.select(
                pl.when(pl.lit(pl.Series(style)) == 0)
                .then(pl.lit(mrn_digits).str.zfill(8))
                .when(pl.lit(pl.Series(style)) == 1)
                .then(pl.concat_str(pl.lit("E"), pl.lit(mrn_digits)))
                .otherwise(pl.concat_str(pl.lit("MRN"), pl.lit(mrn_digits)))
            )
            .to_series()
            .alias("mrn")
        )
        labels = [c.name for c in _CONDITIONS]
        flags = [
            pl.when(pl.lit(pl.Series(self.has[:, k]))).then(pl.lit(label)).otherwise(None)
            for k, label in enumerate(labels)
        ]
        preg_label = np.where(
            self.high_risk, "high_risk_pregnancy", np.where(self.pregnant, "pregnancy", "")
        )
        flags.append(pl.lit(pl.Series(preg_label)).replace("", None))
        pattern = (
            pl.select(pl.concat_str(flags, separator="+", ignore_nulls=True))
            .to_series()
            .replace("", "healthy")
            .alias("risk_pattern")
        )
        people = self._people_frame()
        cbcme_id = f"PR{self.n_org:04d}"
        frame = pl.DataFrame(
            [
                self._person_ids(member),
                self._member_ids(member),
                mrn,
                people["first_name"],
                people["last_name"],
                _dates("birth_date", self.birth),
                people["gender"].alias("sex"),
                people["address"],
                people["city"],
                _constant("state", "MA", n),
                people["zip_code"],
                people["phone"],
                people["email"],
                _Vocab(x[0] for x in _LANGUAGES).strings("primary_language", self.lang),
                people["race"],
                people["ethnicity"],
                _Vocab(x for x, _ in _COVERAGE_LEVELS).strings(
                    "medicaid_coverage_level", self.coverage_level
                ),
                self._plans(member).alias("product"),
                *(
                    pl.Series(name, self.social[:, j])
                    for j, (name, _, _) in enumerate(_SOCIAL_NEEDS)
                ),
                _where("health_home_id", self.health_home, cbcme_id),
                _dates("last_seen_date", last_seen, has_seen),
                pattern,
            ]
        )
        return _conform(frame, _OWN_SCHEMA["members"])

    def _attribution_frame(self) -> pl.DataFrame:
        n = self.n
        member = np.arange(n, dtype=np.int64)
        sw = self.switched
        end_current = np.where(self.lost, self.last_day, 0)
        old = np.flatnonzero(sw)
        rows_member = np.concatenate([old, member])
        practice = np.concatenate([self.old_practice[old], self.practice])
        pcp = np.concatenate([self.old_pcp[old], self.pcp])
        start = np.concatenate([self.first_day[old], np.where(sw, self.switch_day, self.first_day)])
        end = np.concatenate([self.switch_day[old] - 1, end_current])
        has_end = np.concatenate([np.ones(len(old), dtype=bool), self.lost])
        order = np.lexsort((start, rows_member))
        rows_member, practice, pcp = rows_member[order], practice[order], pcp[order]
        start, end, has_end = start[order], end[order], has_end[order]
        practice_ids = _Vocab(f"PR{i + 1:04d}" for i in range(self.n_org))
        frame = pl.DataFrame(
            [
                self._person_ids(rows_member),
                practice_ids.strings("practice_id", practice),
                self.npi.gather(pcp).alias("pcp_npi"),
                _dates("start_date", start),
                _dates("end_date", end, has_end),
            ]
        )
        return _conform(frame, _OWN_SCHEMA["attribution"])


def _compact_dx(dx: IntArray) -> IntArray:
    """Blank out repeats of the principal (column 0) and move the blanks to the right.

    Only the principal can repeat: a member's standing diagnoses, social Z codes and the other
    extras are distinct from one another by construction.
    """
    out = dx.copy()
    rest = out[:, 1:]
    rest[rest == out[:, :1]] = -1
    order = np.argsort(out < 0, axis=1, kind="stable")
    return np.asarray(np.take_along_axis(out, order, axis=1), dtype=np.int64)
