"""Finding the person a record from another system speaks of, among known patients.

Used wherever a row or message arrives with demographics but not our patient ID: a practice's
high-risk list (seed 004 step 2: "health plan combines lists, identifying common patients"),
and admission/discharge messages. Deterministic first (an identifier the issuer vouches for),
then blocking and a weighted fuzzy score in the manner of Fellegi–Sunter record linkage, with
the rule that only a clear winner is accepted: anything close to a tie goes to a person.
"""

from __future__ import annotations

import datetime
import enum
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import phonenumbers
from django.db.models import Q, QuerySet
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from caseboard.patients.models import IdentifierKind, Patient, PatientIdentifier, Sex

# --- Thresholds --------------------------------------------------------------------------
# A record is matched only when its best candidate scores at least MATCH_THRESHOLD. With both
# names and the date of birth equal the score is 1.0; one typo in a name (Jonathon/Jonathan,
# Reyez/Reyes) keeps it above 0.95; a day/month swap in the date of birth with the names equal
# gives 0.94. A birth year off by one alone gives 0.90, below the bar: it is accepted only
# when the phone and address agree too (0.93). 0.92 is therefore the lowest score we have
# seen only for true pairs in the cases above, and the tests pin those cases.
MATCH_THRESHOLD = 0.92
# ...and only when it beats the runner-up by MATCH_MARGIN. Two members with the same name and
# date of birth both score 1.0 on a row that has nothing else; a phone that agrees with one of
# them puts 0.12 between them. Less than 0.08 apart is a near tie and goes to review: a wrong
# merge puts one person's care on another's chart, a review only costs a minute.
MATCH_MARGIN = 0.08
# Candidates scoring below REVIEW_THRESHOLD are not worth a reviewer's time: an equal name
# with a different date of birth and nothing else scores 0.60 (every "John Smith" would
# qualify), while the same name with a different date of birth but the same phone and address
# (a date typed wrongly) scores 0.70 and is shown.
REVIEW_THRESHOLD = 0.65
# A candidate whose given name, sex or identifier disagrees, or a record without a date of
# birth, may be shown for review but is never matched automatically: its score is capped here,
# below MATCH_THRESHOLD. This is what keeps twins (same birth date, address and phone,
# different given names) and nicknames (Bill/William, Kate/Katherine) from being merged.
NOT_AUTOMATIC_CAP = 0.85
# Jaro–Winkler similarity from which two given names count as the same name: typos and short
# forms (Jon/John 0.93, Catherine/Katherine 0.93) pass; Ana/Ava (0.80), Mary/Marie (0.85) and
# nicknames (Kate/Katherine 0.87) do not.
GIVEN_NAME_AGREEMENT = 0.88
# An identifier match is trusted unless the demographics contradict it outright (an MRN typed
# one digit wrong lands on a real, different patient): name below this and birth date unequal.
IDENTIFIER_CONTRADICTION_NAME = 0.60
MAX_CANDIDATES = 5

# Weights of the fuzzy score; fields missing on either side are left out and the rest
# re-weighted, so a row with only names and a date of birth can still score 1.0.
W_GIVEN = 0.20
W_FAMILY = 0.25
W_BIRTH_DATE = 0.30
W_PHONE = 0.10
W_STREET = 0.10
W_POSTAL = 0.05

# Partial credit for the usual ways a date of birth is mistyped.
DOB_TRANSPOSED = 0.85
DOB_YEAR_OFF_BY_ONE = 0.75
DOB_ONE_DIGIT = 0.70
# Given and family names entered in each other's fields: a known data-entry error, a little
# less certain than names in their places.
SWAPPED_NAMES = 0.95
# One family name is a part of the other (Garcia / Garcia-Lopez after marriage or a form that
# kept one name).
NAME_PART_OF_OTHER = 0.90

IDENTIFIER_WORDS: dict[str, str] = {
    IdentifierKind.MEMBER_ID: "member ID",
    IdentifierKind.MRN: "MRN",
    IdentifierKind.MEDICAID_ID: "Medicaid ID",
}
GENERATIONAL_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
# USPS Publication 28, appendix C: the common street suffixes and unit designators.
STREET_WORDS = {
    "street": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "boulevard": "blvd",
    "terrace": "ter",
    "circle": "cir",
    "parkway": "pkwy",
    "highway": "hwy",
    "square": "sq",
    "apartment": "apt",
    "unit": "apt",
    "suite": "ste",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class MatchStatus(enum.StrEnum):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class PersonRecord:
    """A person as another system describes them. Identifiers are (kind, value, issuer
    organization ID); an issuer of None means "any issuer" (e.g. a state Medicaid ID)."""

    given_name: str
    family_name: str
    birth_date: datetime.date | None
    identifiers: Sequence[tuple[str, str, int | None]] = ()
    sex: str = ""
    address: str = ""
    city: str = ""
    postal_code: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Candidate:
    patient: Patient
    score: float
    reasons: list[str] = field(default_factory=list)

    def as_record(self) -> dict[str, object]:
        return {"patient_id": self.patient.pk, "score": self.score, "reasons": self.reasons}


@dataclass(frozen=True)
class MatchResult:
    status: MatchStatus
    patient: Patient | None
    candidates: list[Candidate]


# --- Normalization -----------------------------------------------------------------------


def _clean(text: str) -> str:
    return CONTROL_CHARACTERS.sub("", text or "").strip()


def _fold(text: str) -> str:
    """Lower case, accents dropped, apostrophes removed, other punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", _clean(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = re.sub(r"['’`]", "", plain)
    return " ".join(re.sub(r"[^\w]+", " ", plain).replace("_", " ").split())


def name_tokens(text: str) -> list[str]:
    return [t for t in _fold(text).split() if t not in GENERATIONAL_SUFFIXES]


@functools.lru_cache(maxsize=4096)
def normalize_phone(text: str) -> str:
    """E.164 for a valid US (or explicitly international) number, else ""."""
    cleaned = _clean(text)
    if not cleaned:
        return ""
    try:
        number = phonenumbers.parse(cleaned, "US")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)
def normalize_street(text: str) -> str:
    words = [STREET_WORDS.get(w, w) for w in _fold(text).split()]
    return " ".join(words)


def normalize_postal_code(text: str) -> str:
    digits = re.sub(r"\D", "", _clean(text))
    return digits[:5] if len(digits) >= 5 else ""


# --- Comparisons -------------------------------------------------------------------------


def _field_similarity(a: list[str], b: list[str]) -> float:
    """Similarity of two name fields that may hold several parts (hyphenated, double)."""
    if not a or not b:
        return 0.0
    joined_a, joined_b = " ".join(a), " ".join(b)
    best = max(
        JaroWinkler.similarity(joined_a, joined_b),
        fuzz.token_sort_ratio(joined_a, joined_b) / 100,
    )
    if (len(a) > 1 or len(b) > 1) and set(a) & set(b):
        best = max(best, NAME_PART_OF_OTHER)
    return best


@dataclass(frozen=True)
class _NameComparison:
    given: float
    family: float
    swapped: bool

    @property
    def score(self) -> float:
        combined = (W_GIVEN * self.given + W_FAMILY * self.family) / (W_GIVEN + W_FAMILY)
        return combined * (SWAPPED_NAMES if self.swapped else 1.0)


def compare_names(
    given_a: str, family_a: str, given_b: str, family_b: str
) -> tuple[_NameComparison, list[str]]:
    ga, fa, gb, fb = (name_tokens(x) for x in (given_a, family_a, given_b, family_b))
    straight = _NameComparison(_field_similarity(ga, gb), _field_similarity(fa, fb), False)
    swapped = _NameComparison(_field_similarity(ga, fb), _field_similarity(fa, gb), True)
    best = swapped if swapped.score > straight.score else straight
    reasons: list[str] = []
    if best.swapped:
        reasons.append("given and family names swapped")
    if best.score >= 0.999:
        reasons.append("same name")
    else:
        reasons.append(f"name similar ({best.score:.2f})")
        if best.given < GIVEN_NAME_AGREEMENT:
            reasons.append(f"given name differs ({best.given:.2f})")
        if best.family < GIVEN_NAME_AGREEMENT:
            reasons.append(f"family name differs ({best.family:.2f})")
    return best, reasons


def _shift_year(day: datetime.date, years: int) -> datetime.date | None:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return None


def _transposed(day: datetime.date) -> datetime.date | None:
    if day.day > 12 or day.day == day.month:
        return None
    try:
        return datetime.date(day.year, day.day, day.month)
    except ValueError:
        return None


def birth_date_variants(day: datetime.date) -> list[datetime.date]:
    """The dates a mistyped date of birth is most likely to have been (for blocking)."""
    found = [day, _transposed(day), _shift_year(day, -1), _shift_year(day, 1)]
    return [d for d in found if d is not None]


def compare_birth_dates(a: datetime.date, b: datetime.date) -> tuple[float, str]:
    if a == b:
        return 1.0, "same date of birth"
    if _transposed(a) == b:
        return DOB_TRANSPOSED, "DOB day/month swapped"
    if (a.month, a.day) == (b.month, b.day) and abs(a.year - b.year) == 1:
        return DOB_YEAR_OFF_BY_ONE, "birth year off by one"
    digits_a, digits_b = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    if sum(x != y for x, y in zip(digits_a, digits_b, strict=True)) == 1:
        return DOB_ONE_DIGIT, "DOB one digit different"
    return 0.0, "date of birth differs"


# --- Matching ----------------------------------------------------------------------------


def _identifier_hits(record: PersonRecord, candidates: QuerySet[Patient]) -> dict[int, list[str]]:
    """Patients carrying one of the record's identifiers, with what was shared."""
    hits: dict[int, list[str]] = {}
    for kind, value, issuer in record.identifiers:
        value = _clean(value)
        if not value:
            continue
        found = PatientIdentifier.objects.filter(
            kind=kind, value__iexact=value, patient__in=candidates
        )
        if issuer is not None:
            found = found.filter(organization_id=issuer)
        for patient_id in found.values_list("patient_id", flat=True).distinct():
            hits.setdefault(patient_id, []).append(f"same {IDENTIFIER_WORDS.get(kind, kind)}")
    return hits


def _blocking(record: PersonRecord) -> Q:
    """Which candidates to score at all: a likely date of birth, phone or family name."""
    block = Q(pk__in=[])
    if record.birth_date is not None:
        block |= Q(birth_date__in=birth_date_variants(record.birth_date))
    phone = normalize_phone(record.phone)
    if phone:
        block |= Q(phone__endswith=phone[-4:])
    # Family name by its first letters, also as the second part of a hyphenated name and in
    # the given-name field (names entered the wrong way round).
    for token in name_tokens(record.family_name) + name_tokens(record.given_name)[:1]:
        prefix = token[:3]
        if len(prefix) < 2:
            continue
        block |= (
            Q(family_name__istartswith=prefix)
            | Q(family_name__icontains=f"-{prefix}")
            | Q(family_name__icontains=f" {prefix}")
        )
    return block


def _conflicting_identifiers(record: PersonRecord, patient: Patient) -> list[str]:
    """Identifiers the record gives that the patient holds with another value."""
    conflicts = []
    held = list(patient.identifiers.all())
    for kind, value, issuer in record.identifiers:
        value = _clean(value)
        if not value:
            continue
        same_kind = [
            i for i in held if i.kind == kind and (issuer is None or i.organization_id == issuer)
        ]
        if same_kind and all(i.value.casefold() != value.casefold() for i in same_kind):
            conflicts.append(f"different {IDENTIFIER_WORDS.get(kind, kind)}")
    return conflicts


def score_candidate(record: PersonRecord, patient: Patient) -> Candidate:
    """How much `patient` looks like `record`, from 0 to 1, with the reasons in words."""
    names, reasons = compare_names(
        record.given_name, record.family_name, patient.given_name, patient.family_name
    )
    weight = W_GIVEN + W_FAMILY
    total = names.score * weight
    automatic = names.given >= GIVEN_NAME_AGREEMENT

    if record.birth_date is not None:
        dob, why = compare_birth_dates(record.birth_date, patient.birth_date)
        total += W_BIRTH_DATE * dob
        weight += W_BIRTH_DATE
        reasons.append(why)
    else:
        automatic = False
        reasons.append("no date of birth to compare")

    phone_a, phone_b = normalize_phone(record.phone), normalize_phone(patient.phone)
    if phone_a and phone_b:
        weight += W_PHONE
        if phone_a == phone_b:
            total += W_PHONE
            reasons.append("same phone")
        else:
            reasons.append("different phone")

    street_a, street_b = normalize_street(record.address), normalize_street(patient.address)
    if street_a and street_b:
        similarity = fuzz.token_sort_ratio(street_a, street_b) / 100
        weight += W_STREET
        total += W_STREET * similarity
        if similarity >= 0.999:
            reasons.append("same street address")
        elif similarity >= 0.85:
            reasons.append(f"street address similar ({similarity:.2f})")
        else:
            reasons.append("different street address")
    postal_a = normalize_postal_code(record.postal_code)
    postal_b = normalize_postal_code(patient.postal_code)
    if postal_a and postal_b:
        weight += W_POSTAL
        if postal_a == postal_b:
            total += W_POSTAL
            reasons.append("same ZIP code")
        else:
            reasons.append("different ZIP code")

    known = {Sex.FEMALE, Sex.MALE}
    if record.sex in known and patient.sex in known and record.sex != patient.sex:
        automatic = False
        reasons.append("sex differs")
    conflicts = _conflicting_identifiers(record, patient)
    if conflicts:
        automatic = False
        reasons.extend(conflicts)

    score = total / weight
    if not automatic:
        score = min(score, NOT_AUTOMATIC_CAP)
    return Candidate(patient=patient, score=round(score, 4), reasons=reasons)


def _ranked(candidates: Iterable[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.patient.pk))


def match_person(record: PersonRecord, candidates: QuerySet[Patient]) -> MatchResult:
    """The one patient among `candidates` that `record` describes, or why none can be told.

    matched: an identifier of the stated issuer found on exactly one patient (unless the names
    and date of birth contradict it), or one patient scoring at least MATCH_THRESHOLD and
    MATCH_MARGIN above every other. ambiguous: someone is close enough for a person to decide.
    unmatched: nobody scores REVIEW_THRESHOLD.
    """
    hits = _identifier_hits(record, candidates)
    if hits:
        identified = _ranked(
            Candidate(patient=patient, score=1.0, reasons=hits[patient.pk])
            for patient in candidates.filter(pk__in=list(hits)).prefetch_related("identifiers")
        )
        if len(identified) == 1:
            only = identified[0]
            check = score_candidate(record, only.patient)
            names, _ = compare_names(
                record.given_name,
                record.family_name,
                only.patient.given_name,
                only.patient.family_name,
            )
            same_birth_date = record.birth_date == only.patient.birth_date
            if names.score < IDENTIFIER_CONTRADICTION_NAME and not same_birth_date:
                doubt = Candidate(
                    patient=only.patient,
                    score=min(check.score, NOT_AUTOMATIC_CAP),
                    reasons=[
                        *only.reasons,
                        "but the name and date of birth do not agree",
                        *check.reasons,
                    ],
                )
                return MatchResult(MatchStatus.AMBIGUOUS, None, [doubt])
            reasons = only.reasons + [r for r in check.reasons if r not in only.reasons]
            return MatchResult(
                MatchStatus.MATCHED,
                only.patient,
                [Candidate(patient=only.patient, score=1.0, reasons=reasons)],
            )
        # The record's identifiers point at different people: a person must decide.
        shared = [
            Candidate(
                patient=c.patient,
                score=min(score_candidate(record, c.patient).score, NOT_AUTOMATIC_CAP),
                reasons=[*c.reasons, "another patient matches another of the identifiers"],
            )
            for c in identified
        ]
        return MatchResult(MatchStatus.AMBIGUOUS, None, _ranked(shared)[:MAX_CANDIDATES])

    blocked = candidates.filter(_blocking(record)).distinct().prefetch_related("identifiers")
    ranked = _ranked(score_candidate(record, patient) for patient in blocked)
    shown = [c for c in ranked if c.score >= REVIEW_THRESHOLD][:MAX_CANDIDATES]
    if not shown:
        return MatchResult(MatchStatus.UNMATCHED, None, [])
    best = shown[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if best.score >= MATCH_THRESHOLD and best.score - runner_up >= MATCH_MARGIN:
        return MatchResult(MatchStatus.MATCHED, best.patient, shown)
    return MatchResult(MatchStatus.AMBIGUOUS, None, shown)
