"""Standard screening instruments, their published scoring and what a positive result calls
for. Django-free: each instrument is data (items in their published wording, answers with
their points, interpretation bands, the positivity rule) and `score` applies it.

Sources, by instrument:
- PHQ-9: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression
  severity measure. J Gen Intern Med 2001;16(9):606-613. Nine items 0-3, total 0-27; severity
  5/10/15/20 = mild/moderate/moderately severe/severe; 10 or more is the usual positive cut
  point. Item 9 (thoughts of death or self-harm) above "not at all" calls for a suicide-risk
  assessment whatever the total.
- PHQ-2: Kroenke K, Spitzer RL, Williams JBW. The Patient Health Questionnaire-2: validity of
  a two-item depression screener. Med Care 2003;41(11):1284-1292. The PHQ-9's first two
  items, total 0-6; 3 or more is positive and is followed by the full PHQ-9.
- GAD-7: Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing
  generalized anxiety disorder: the GAD-7. Arch Intern Med 2006;166(10):1092-1097. Seven
  items 0-3, total 0-21; 5/10/15 = mild/moderate/severe; 10 or more is positive.
- AUDIT-C: Bush K, Kivlahan DR, McDonell MB, Fihn SD, Bradley KA. The AUDIT alcohol
  consumption questions (AUDIT-C). Arch Intern Med 1998;158(16):1789-1795; Bradley KA,
  DeBenedetti AF, Volk RJ, et al. AUDIT-C as a brief screen for alcohol misuse in primary
  care. Alcohol Clin Exp Res 2007;31(7):1208-1217. Three items 0-4, total 0-12; positive at
  4 or more for men, 3 or more for women.
- AHC HRSN core: CMS Accountable Health Communities Health-Related Social Needs Screening
  Tool; Billioux A, Verlander K, Anthony S, Alley D. Standardized screening for health-related
  social needs in clinical settings: the Accountable Health Communities screening tool. NAM
  Perspectives, 2017. Ten questions in five domains, each domain positive by its own rule
  (see `_score_ahc_hrsn`); interpersonal safety is HITS-style, 1-5 per item, positive at a
  sum of 11 or more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from caseboard.care.errors import CareError

PHQ2 = "phq2"
PHQ9 = "phq9"
GAD7 = "gad7"
AUDIT_C = "audit_c"
AHC_HRSN = "ahc_hrsn"

# AHC HRSN domains, named like the directory's service categories so that a positive domain
# leads straight to resources of the same category.
HOUSING = "housing"
FOOD = "food"
TRANSPORTATION = "transportation"
UTILITIES = "utilities"
SAFETY = "safety"
BEHAVIORAL_HEALTH = "behavioral_health"

# How a positive domain reads in the patient's social needs: the same words as the needs
# coded from claims (Z-codes), so one need is listed once whichever way it was found.
SOCIAL_NEED_LABELS: dict[str, str] = {
    HOUSING: "Housing instability",
    FOOD: "Food insecurity",
    TRANSPORTATION: "Transportation",
    UTILITIES: "Utilities",
    SAFETY: "Interpersonal safety",
}

AnswerValue = int | str
Sex = str


class ScreeningError(CareError):
    """An answer set that cannot be scored; `field` names the item."""


@dataclass(frozen=True)
class Option:
    value: AnswerValue
    label: str
    points: int = 0
    # AHC HRSN: choosing this answer shows a need in the item's domain.
    positive: bool = False


@dataclass(frozen=True)
class Item:
    key: str
    number: int
    text: str
    options: tuple[Option, ...]
    scored: bool = True
    required: bool = True
    multiple: bool = False
    domain: str = ""

    def option(self, value: AnswerValue) -> Option | None:
        for option in self.options:
            if str(option.value) == str(value):
                return option
        return None

    @property
    def max_points(self) -> int:
        return max(o.points for o in self.options)

    @property
    def min_points(self) -> int:
        return min(o.points for o in self.options)


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Definition:
    code: str
    name: str
    title: str
    # The instruction read to or by the patient before the items.
    stem: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...] = ()
    cutoff: int | None = None
    source: str = ""

    def item(self, key: str) -> Item | None:
        return next((i for i in self.items if i.key == key), None)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.scored)

    @property
    def max_score(self) -> int | None:
        if self.code == AHC_HRSN:
            return None
        return sum(i.max_points for i in self.scored_items)

    def band(self, total: int) -> str:
        return next((b.label for b in self.bands if b.low <= total <= b.high), "")


@dataclass(frozen=True)
class Suggestion:
    """A next step a result calls for: a task, a referral in a service category, or another
    instrument to administer now."""

    kind: Literal["task", "referral", "screen"]
    title: str
    category: str = ""
    instrument: str = ""


@dataclass(frozen=True)
class ScreeningResult:
    instrument: str
    answers: dict[str, AnswerValue | list[str]]
    score: int | None
    max_score: int | None
    severity: str
    interpretation: str
    positive: bool
    safety_flag: bool = False
    positive_domains: tuple[str, ...] = ()
    # Domain sums reported beside the result, e.g. {"safety": 7} for the AHC HRSN.
    subscores: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()


# --- The instruments ------------------------------------------------------------------

_OVER_TWO_WEEKS = (
    Option(0, "Not at all", 0),
    Option(1, "Several days", 1),
    Option(2, "More than half the days", 2),
    Option(3, "Nearly every day", 3),
)

_DIFFICULTY = (
    Option("not_difficult", "Not difficult at all"),
    Option("somewhat", "Somewhat difficult"),
    Option("very", "Very difficult"),
    Option("extremely", "Extremely difficult"),
)

_DIFFICULTY_TEXT = (
    "If you checked off any problems, how difficult have these problems made it for you to do"
    " your work, take care of things at home, or get along with other people?"
)

_PHQ9_TEXTS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your"
    " family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite —"
    " being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)

_GAD7_TEXTS = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
)


def _frequency_items(texts: Sequence[str]) -> tuple[Item, ...]:
    return tuple(
        Item(key=f"q{n}", number=n, text=text, options=_OVER_TWO_WEEKS)
        for n, text in enumerate(texts, start=1)
    )


def _difficulty_item(number: int) -> Item:
    # Asked on the published form, never added to the score (Kroenke 2001; Spitzer 2006).
    return Item(
        key="difficulty",
        number=number,
        text=_DIFFICULTY_TEXT,
        options=_DIFFICULTY,
        scored=False,
        required=False,
    )


_TWO_WEEKS_STEM = (
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)

PHQ2_DEFINITION = Definition(
    code=PHQ2,
    name="PHQ-2",
    title="Patient Health Questionnaire-2 (depression, first step)",
    stem=_TWO_WEEKS_STEM,
    items=_frequency_items(_PHQ9_TEXTS[:2]),
    bands=(Band(0, 2, "Negative"), Band(3, 6, "Positive")),
    cutoff=3,
    source="Kroenke, Spitzer & Williams, Med Care 2003;41:1284-92",
)

PHQ9_DEFINITION = Definition(
    code=PHQ9,
    name="PHQ-9",
    title="Patient Health Questionnaire-9 (depression)",
    stem=_TWO_WEEKS_STEM,
    items=(*_frequency_items(_PHQ9_TEXTS), _difficulty_item(10)),
    bands=(
        Band(0, 4, "None–minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 19, "Moderately severe"),
        Band(20, 27, "Severe"),
    ),
    cutoff=10,
    source="Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-13",
)

GAD7_DEFINITION = Definition(
    code=GAD7,
    name="GAD-7",
    title="Generalized Anxiety Disorder-7 (anxiety)",
    stem=_TWO_WEEKS_STEM,
    items=(*_frequency_items(_GAD7_TEXTS), _difficulty_item(8)),
    bands=(
        Band(0, 4, "Minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 21, "Severe"),
    ),
    cutoff=10,
    source="Spitzer, Kroenke, Williams & Löwe, Arch Intern Med 2006;166:1092-7",
)

AUDIT_C_DEFINITION = Definition(
    code=AUDIT_C,
    name="AUDIT-C",
    title="Alcohol Use Disorders Identification Test – Consumption (alcohol use)",
    stem="Think about your drinking over the past year.",
    items=(
        Item(
            key="q1",
            number=1,
            text="How often do you have a drink containing alcohol?",
            options=(
                Option(0, "Never", 0),
                Option(1, "Monthly or less", 1),
                Option(2, "2-4 times a month", 2),
                Option(3, "2-3 times a week", 3),
                Option(4, "4 or more times a week", 4),
            ),
        ),
        Item(
            key="q2",
            number=2,
            text=(
                "How many standard drinks containing alcohol do you have on a typical day"
                " when you are drinking?"
            ),
            options=(
                Option(0, "1 or 2", 0),
                Option(1, "3 or 4", 1),
                Option(2, "5 or 6", 2),
                Option(3, "7 to 9", 3),
                Option(4, "10 or more", 4),
            ),
        ),
        Item(
            key="q3",
            number=3,
            text="How often do you have six or more drinks on one occasion?",
            options=(
                Option(0, "Never", 0),
                Option(1, "Less than monthly", 1),
                Option(2, "Monthly", 2),
                Option(3, "Weekly", 3),
                Option(4, "Daily or almost daily", 4),
            ),
        ),
    ),
    source="Bush et al., Arch Intern Med 1998;158:1789-95; Bradley et al., ACER 2007;31:1208-17",
)

# Bradley 2007: 4 or more in men, 3 or more in women.
AUDIT_C_CUTOFF = {"male": 4, "female": 3}
AUDIT_C_CUTOFF_UNKNOWN_SEX = 3

_OFTEN_SOMETIMES_NEVER = (
    Option("often", "Often true", positive=True),
    Option("sometimes", "Sometimes true", positive=True),
    Option("never", "Never true"),
)

_HOW_OFTEN = (
    Option(1, "Never", 1),
    Option(2, "Rarely", 2),
    Option(3, "Sometimes", 3),
    Option(4, "Fairly often", 4),
    Option(5, "Frequently", 5),
)

# AHC HRSN: interpersonal safety is positive when the four items sum to 11 or more.
AHC_SAFETY_CUTOFF = 11

AHC_HRSN_DEFINITION = Definition(
    code=AHC_HRSN,
    name="AHC HRSN",
    title="Accountable Health Communities health-related social needs screening (core)",
    stem="Answer each question about yourself. Choose the answer that fits best.",
    items=(
        Item(
            key="q1",
            number=1,
            domain=HOUSING,
            scored=False,
            text="What is your living situation today?",
            options=(
                Option("steady", "I have a steady place to live"),
                Option(
                    "worried",
                    "I have a place to live today, but I am worried about losing it in the future",
                    positive=True,
                ),
                Option(
                    "not_steady",
                    "I do not have a steady place to live (I am temporarily staying with others,"
                    " in a hotel, in a shelter, living outside on the street, on a beach, in a"
                    " car, abandoned building, bus or train station, or in a park)",
                    positive=True,
                ),
            ),
        ),
        Item(
            key="q2",
            number=2,
            domain=HOUSING,
            scored=False,
            multiple=True,
            text=(
                "Think about the place you live. Do you have problems with any of the"
                " following? (Choose all that apply.)"
            ),
            options=(
                Option("pests", "Pests such as bugs, ants, or mice", positive=True),
                Option("mold", "Mold", positive=True),
                Option("lead", "Lead paint or pipes", positive=True),
                Option("heat", "Lack of heat", positive=True),
                Option("oven", "Oven or stove not working", positive=True),
                Option("smoke_detectors", "Smoke detectors missing or not working", positive=True),
                Option("water_leaks", "Water leaks", positive=True),
                Option("none", "None of the above"),
            ),
        ),
        Item(
            key="q3",
            number=3,
            domain=FOOD,
            scored=False,
            text=(
                "Within the past 12 months, you worried that your food would run out before you"
                " got money to buy more."
            ),
            options=_OFTEN_SOMETIMES_NEVER,
        ),
        Item(
            key="q4",
            number=4,
            domain=FOOD,
            scored=False,
            text=(
                "Within the past 12 months, the food you bought just didn't last and you didn't"
                " have money to get more."
            ),
            options=_OFTEN_SOMETIMES_NEVER,
        ),
        Item(
            key="q5",
            number=5,
            domain=TRANSPORTATION,
            scored=False,
            text=(
                "In the past 12 months, has lack of reliable transportation kept you from medical"
                " appointments, meetings, work or from getting things needed for daily living?"
            ),
            options=(Option("yes", "Yes", positive=True), Option("no", "No")),
        ),
        Item(
            key="q6",
            number=6,
            domain=UTILITIES,
            scored=False,
            text=(
                "In the past 12 months has the electric, gas, oil, or water company threatened to"
                " shut off services in your home?"
            ),
            options=(
                Option("yes", "Yes", positive=True),
                Option("no", "No"),
                Option("shut_off", "Already shut off", positive=True),
            ),
        ),
        Item(
            key="q7",
            number=7,
            domain=SAFETY,
            text="How often does anyone, including family and friends, physically hurt you?",
            options=_HOW_OFTEN,
        ),
        Item(
            key="q8",
            number=8,
            domain=SAFETY,
            text="How often does anyone, including family and friends, insult or talk down to you?",
            options=_HOW_OFTEN,
        ),
        Item(
            key="q9",
            number=9,
            domain=SAFETY,
            text="How often does anyone, including family and friends, threaten you with harm?",
            options=_HOW_OFTEN,
        ),
        Item(
            key="q10",
            number=10,
            domain=SAFETY,
            text="How often does anyone, including family and friends, scream or curse at you?",
            options=_HOW_OFTEN,
        ),
    ),
    source="CMS AHC HRSN Screening Tool; Billioux et al., NAM Perspectives 2017",
)

DEFINITIONS: dict[str, Definition] = {
    d.code: d
    for d in (
        PHQ2_DEFINITION,
        PHQ9_DEFINITION,
        GAD7_DEFINITION,
        AUDIT_C_DEFINITION,
        AHC_HRSN_DEFINITION,
    )
}
INSTRUMENTS = tuple(DEFINITIONS)
AHC_DOMAINS = (HOUSING, FOOD, TRANSPORTATION, UTILITIES, SAFETY)


def definition(instrument: str) -> Definition:
    found = DEFINITIONS.get(instrument)
    if found is None:
        known = ", ".join(d.name for d in DEFINITIONS.values())
        raise ScreeningError(
            f"“{instrument}” is not an instrument caseboard scores; choose one of {known}.",
            field="instrument",
        )
    return found


# --- Checking the answers --------------------------------------------------------------


def _item_name(d: Definition, item: Item) -> str:
    return f"item {item.number} of the {d.name} (“{item.text}”)"


def _choices(item: Item) -> str:
    return "; ".join(
        f"{o.value} = {o.label}" if str(o.value) != o.label else o.label for o in item.options
    )


def _is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def _one_answer(d: Definition, item: Item, raw: object) -> Option:
    # A bool is an int in Python; True is no answer to "how often".
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ScreeningError(
            f"{raw!r} is not an answer to {_item_name(d, item)}; choose one of: {_choices(item)}.",
            field=item.key,
        )
    option = item.option(raw.strip() if isinstance(raw, str) else raw)
    if option is None:
        raise ScreeningError(
            f"“{raw}” is not an answer to {_item_name(d, item)}; choose one of: {_choices(item)}.",
            field=item.key,
        )
    return option


def _many_answers(d: Definition, item: Item, raw: object) -> list[Option]:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list | tuple):
        raise ScreeningError(
            f"Answer {_item_name(d, item)} with a list of choices.", field=item.key
        )
    chosen: list[Option] = []
    for value in values:
        option = _one_answer(d, item, value)
        if option not in chosen:
            chosen.append(option)
    exclusive = [o for o in chosen if not o.positive]
    if exclusive and len(chosen) > 1:
        raise ScreeningError(
            f"“{exclusive[0].label}” cannot be chosen together with a problem in"
            f" {_item_name(d, item)}.",
            field=item.key,
        )
    return chosen


def check_answers(
    instrument: str, answers: Mapping[str, object]
) -> tuple[Definition, dict[str, Option | list[Option]]]:
    """Every required item answered with one of its options, and nothing else; the first
    problem raises ScreeningError naming the item."""
    d = definition(instrument)
    if not isinstance(answers, Mapping):
        raise ScreeningError("Answers must map each item to its answer.", field="answers")
    for key in answers:
        if d.item(str(key)) is None:
            raise ScreeningError(f"The {d.name} has no item “{key}”.", field=str(key))
    checked: dict[str, Option | list[Option]] = {}
    for item in d.items:
        raw = answers.get(item.key)
        if _is_blank(raw):
            if item.required:
                raise ScreeningError(f"Answer {_item_name(d, item)}.", field=item.key)
            continue
        checked[item.key] = (
            _many_answers(d, item, raw) if item.multiple else _one_answer(d, item, raw)
        )
    return d, checked


def _stored(checked: Mapping[str, Option | list[Option]]) -> dict[str, AnswerValue | list[str]]:
    return {
        key: [str(o.value) for o in value] if isinstance(value, list) else value.value
        for key, value in checked.items()
    }


def _points(checked: Mapping[str, Option | list[Option]], items: Sequence[Item]) -> int:
    total = 0
    for item in items:
        answer = checked[item.key]
        assert isinstance(answer, Option)
        total += answer.points
    return total


# --- Scoring ---------------------------------------------------------------------------


def score(
    instrument: str, answers: Mapping[str, object], *, sex: Sex = "unknown"
) -> ScreeningResult:
    """Score one administration by the instrument's published rules.

    `sex` matters only for the AUDIT-C cutoff ("male", "female"; anything else takes the
    lower cutoff and says so in the notes).
    """
    d, checked = check_answers(instrument, answers)
    if d.code == AHC_HRSN:
        return _score_ahc_hrsn(d, checked)
    total = _points(checked, d.scored_items)
    if d.code == AUDIT_C:
        return _score_audit_c(d, checked, total, sex)
    assert d.cutoff is not None
    positive = total >= d.cutoff
    severity = d.band(total)
    safety_flag = False
    if d.code == PHQ2:
        interpretation = (
            f"Positive depression screen (PHQ-2 {total}/6, 3 or more): administer the PHQ-9"
            if positive
            else f"Negative depression screen (PHQ-2 {total}/6)"
        )
    else:
        what = "depression" if d.code == PHQ9 else "anxiety"
        interpretation = f"{severity} {what} symptoms ({d.name} {total}/{d.max_score})"
        if positive:
            interpretation += f"; positive screen ({d.cutoff} or more)"
        if d.code == PHQ9:
            # Kroenke 2001: any answer above "not at all" on item 9 needs a same-day
            # suicide-risk assessment, however low the total.
            item9 = checked["q9"]
            assert isinstance(item9, Option)
            safety_flag = item9.points > 0
            if safety_flag:
                interpretation += "; item 9 positive — assess safety today"
    return ScreeningResult(
        instrument=d.code,
        answers=_stored(checked),
        score=total,
        max_score=d.max_score,
        severity=severity,
        interpretation=interpretation,
        positive=positive,
        safety_flag=safety_flag,
        suggestions=suggest(d.code, score=total, positive=positive, safety_flag=safety_flag),
    )


def audit_c_cutoff(sex: Sex) -> tuple[int, str]:
    """The cutoff for this sex, and a note when the sex does not decide it."""
    if sex in AUDIT_C_CUTOFF:
        return AUDIT_C_CUTOFF[sex], ""
    return AUDIT_C_CUTOFF_UNKNOWN_SEX, (
        "Sex is not recorded as male or female, so the lower (women's) cutoff of 3 was used."
    )


def _score_audit_c(
    d: Definition, checked: Mapping[str, Option | list[Option]], total: int, sex: Sex
) -> ScreeningResult:
    cutoff, note = audit_c_cutoff(sex)
    positive = total >= cutoff
    notes = [note] if note else []
    first = checked["q1"]
    assert isinstance(first, Option)
    if positive and first.points == total:
        # VA AUDIT-C scoring guidance: points from question 1 alone usually mean drinking
        # below recommended limits; review the last few months before acting.
        notes.append(
            "All points come from question 1: the patient may be drinking below recommended"
            " limits; review their intake over the past few months."
        )
    interpretation = (
        f"Positive for unhealthy alcohol use (AUDIT-C {total}/12, cutoff {cutoff})"
        if positive
        else f"Negative (AUDIT-C {total}/12, cutoff {cutoff})"
    )
    return ScreeningResult(
        instrument=d.code,
        answers=_stored(checked),
        score=total,
        max_score=d.max_score,
        severity="Positive" if positive else "Negative",
        interpretation=interpretation,
        positive=positive,
        notes=tuple(notes),
        suggestions=suggest(d.code, score=total, positive=positive),
    )


def _score_ahc_hrsn(d: Definition, checked: Mapping[str, Option | list[Option]]) -> ScreeningResult:
    """Each domain by the tool's rule: living situation answers 2 or 3 of question 1, or any
    housing problem in question 2; food "often" or "sometimes true" on either item;
    transportation "yes"; utilities "yes" or "already shut off"; interpersonal safety a sum
    of 11 or more over the four items (never 1 … frequently 5)."""
    safety_items = [i for i in d.items if i.domain == SAFETY]
    safety_sum = _points(checked, safety_items)
    positive_domains: list[str] = []
    for domain in AHC_DOMAINS:
        if domain == SAFETY:
            hit = safety_sum >= AHC_SAFETY_CUTOFF
        else:
            hit = False
            for item in d.items:
                if item.domain != domain or item.key not in checked:
                    continue
                answer = checked[item.key]
                chosen = answer if isinstance(answer, list) else [answer]
                hit = hit or any(o.positive for o in chosen)
        if hit:
            positive_domains.append(domain)
    if positive_domains:
        needs = ", ".join(SOCIAL_NEED_LABELS[x] for x in positive_domains)
        interpretation = f"Positive for: {needs}"
    else:
        interpretation = "No health-related social need identified"
    return ScreeningResult(
        instrument=d.code,
        answers=_stored(checked),
        score=None,
        max_score=None,
        severity="Positive" if positive_domains else "Negative",
        interpretation=interpretation,
        positive=bool(positive_domains),
        positive_domains=tuple(positive_domains),
        subscores={SAFETY: safety_sum},
        suggestions=suggest(d.code, positive_domains=positive_domains),
    )


# --- Next steps ------------------------------------------------------------------------

_BH_HAND_OFF = "Refer to behavioral health / warm hand-off to the BH provider"

_DOMAIN_SUGGESTIONS: dict[str, tuple[Suggestion, ...]] = {
    HOUSING: (Suggestion("referral", "Refer to a housing resource", category=HOUSING),),
    FOOD: (Suggestion("referral", "Refer to a food resource", category=FOOD),),
    TRANSPORTATION: (
        Suggestion("referral", "Refer to a transportation resource", category=TRANSPORTATION),
    ),
    UTILITIES: (
        Suggestion("referral", "Refer to a utility-assistance resource", category=UTILITIES),
    ),
    SAFETY: (
        Suggestion("task", "Talk with the patient in private about safety and make a safety plan"),
        Suggestion(
            "referral",
            "Refer to an interpersonal-safety resource (domestic-violence advocate)",
            category=SAFETY,
        ),
    ),
}


def suggest(
    instrument: str,
    *,
    score: int | None = None,
    positive: bool = False,
    safety_flag: bool = False,
    positive_domains: Sequence[str] = (),
) -> tuple[Suggestion, ...]:
    """The next steps a result calls for, from what was recorded about it.

    PHQ-9 steps follow the treatment actions Kroenke 2001 proposes for each severity; the
    item-9 safety check is not listed here because recording the screening creates it.
    """
    total = score or 0
    steps: list[Suggestion] = []
    if instrument == PHQ2 and positive:
        steps.append(Suggestion("screen", "Administer the PHQ-9", instrument=PHQ9))
    elif instrument == PHQ9:
        if positive:
            title = "Expedited referral to behavioral health" if total >= 20 else _BH_HAND_OFF
            steps.append(Suggestion("referral", title, category=BEHAVIORAL_HEALTH))
            steps.append(
                Suggestion(
                    "task",
                    "Review with the PCP: start treatment (psychotherapy, medication or both)"
                    if total >= 15
                    else "Review with the PCP: treatment plan (counseling, follow-up, medication)",
                )
            )
        elif total >= 5:
            steps.append(Suggestion("task", "Repeat the PHQ-9 at follow-up (watchful waiting)"))
    elif instrument == GAD7:
        if positive:
            steps.append(
                Suggestion(
                    "referral",
                    "Refer to behavioral health for an anxiety evaluation / warm hand-off",
                    category=BEHAVIORAL_HEALTH,
                )
            )
        elif total >= 5:
            steps.append(Suggestion("task", "Repeat the GAD-7 at follow-up"))
    elif instrument == AUDIT_C and positive:
        steps.append(
            Suggestion("task", "Brief intervention about alcohol use (advise, assist, follow up)")
        )
        steps.append(
            Suggestion("referral", "Refer to a substance-use program", category=BEHAVIORAL_HEALTH)
        )
    elif instrument == AHC_HRSN:
        for domain in AHC_DOMAINS:
            if domain in positive_domains:
                steps.extend(_DOMAIN_SUGGESTIONS[domain])
    return tuple(steps)


def describe_answers(
    instrument: str, answers: Mapping[str, object]
) -> list[tuple[Item, list[Option]]]:
    """Each item with the options recorded for it (empty when skipped), for display."""
    d = definition(instrument)
    described: list[tuple[Item, list[Option]]] = []
    for item in d.items:
        raw = answers.get(item.key)
        values = raw if isinstance(raw, list) else [] if _is_blank(raw) else [raw]
        chosen = [o for v in values if isinstance(v, int | str) and (o := item.option(v))]
        described.append((item, chosen))
    return described
