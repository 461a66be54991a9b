"""Scoring checked against the published rules of each instrument (Kroenke 2001, Kroenke 2003,
Spitzer 2006, Bush 1998 / Bradley 2007, CMS AHC HRSN tool)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseboard.care import screening as s
from caseboard.care.errors import CareError
from caseboard.care.models import Instrument, ServiceCategory


def phq9(*points: int, difficulty: str | None = None) -> dict[str, Any]:
    answers: dict[str, Any] = {f"q{n}": p for n, p in enumerate(points, start=1)}
    if difficulty is not None:
        answers["difficulty"] = difficulty
    return answers


def with_total(total: int, items: int = 9, *, item9: int = 0) -> dict[str, Any]:
    """A PHQ-9-style answer set adding up to `total`, with item 9 fixed."""
    points = [0] * items
    points[8] = item9
    left = total - item9
    for i in range(8):
        points[i] = min(3, left)
        left -= points[i]
    assert left == 0
    return phq9(*points)


AHC_NEGATIVE: dict[str, Any] = {
    "q1": "steady",
    "q2": ["none"],
    "q3": "never",
    "q4": "never",
    "q5": "no",
    "q6": "no",
    "q7": 1,
    "q8": 1,
    "q9": 1,
    "q10": 1,
}


def ahc(**changes: Any) -> dict[str, Any]:
    return {**AHC_NEGATIVE, **changes}


# --- Definitions ------------------------------------------------------------------------


def test_every_model_instrument_has_a_definition_and_no_more() -> None:
    assert set(s.INSTRUMENTS) == set(Instrument.values)


def test_ahc_domains_are_directory_service_categories() -> None:
    assert set(s.AHC_DOMAINS) <= set(ServiceCategory.values)
    assert s.BEHAVIORAL_HEALTH in ServiceCategory.values


def test_items_carry_the_published_wording() -> None:
    phq = s.definition(s.PHQ9)
    assert phq.items[0].text == "Little interest or pleasure in doing things"
    assert phq.items[8].text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert [o.label for o in phq.items[0].options] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert s.definition(s.PHQ2).items == phq.items[:2]
    assert s.definition(s.GAD7).items[1].text == "Not being able to stop or control worrying"
    assert s.definition(s.AHC_HRSN).items[0].text == "What is your living situation today?"


@pytest.mark.parametrize(
    ("instrument", "maximum"),
    [(s.PHQ2, 6), (s.PHQ9, 27), (s.GAD7, 21), (s.AUDIT_C, 12), (s.AHC_HRSN, None)],
)
def test_score_ranges_are_the_published_ones(instrument: str, maximum: int | None) -> None:
    assert s.definition(instrument).max_score == maximum


# --- Properties ---------------------------------------------------------------------------

SUMMED = [s.PHQ2, s.PHQ9, s.GAD7, s.AUDIT_C]


@st.composite
def full_answers(draw: st.DrawFn, instrument: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in s.definition(instrument).items:
        if not item.required and draw(st.booleans()):
            continue
        if item.multiple:
            problems = [o.value for o in item.options if o.positive]
            chosen = draw(st.lists(st.sampled_from(problems), unique=True))
            answers[item.key] = chosen or ["none"]
        else:
            option = draw(st.sampled_from(item.options))
            # Forms send text, API clients numbers: both are the same answer.
            answers[item.key] = draw(st.sampled_from([option.value, str(option.value)]))
    return answers


@given(st.sampled_from(SUMMED).flatmap(lambda i: st.tuples(st.just(i), full_answers(i))))
def test_any_full_answer_set_scores_the_sum_of_its_points_within_range(
    case: tuple[str, dict[str, Any]],
) -> None:
    instrument, answers = case
    d = s.definition(instrument)
    result = s.score(instrument, answers)
    expected = sum(
        next(o.points for o in item.options if str(o.value) == str(answers[item.key]))
        for item in d.scored_items
    )
    assert result.score == expected
    assert d.max_score is not None and 0 <= expected <= d.max_score
    assert result.severity
    if instrument != s.AUDIT_C:
        assert result.positive == (expected >= (d.cutoff or 0))


@given(full_answers(s.AHC_HRSN))
def test_any_full_ahc_answer_set_gives_domains_and_a_safety_sum_in_range(
    answers: dict[str, Any],
) -> None:
    result = s.score(s.AHC_HRSN, answers)
    assert result.score is None
    assert 4 <= result.subscores[s.SAFETY] <= 20
    assert set(result.positive_domains) <= set(s.AHC_DOMAINS)
    assert result.positive == bool(result.positive_domains)
    assert (s.SAFETY in result.positive_domains) == (result.subscores[s.SAFETY] >= 11)


@given(
    st.sampled_from(s.INSTRUMENTS).flatmap(
        lambda i: st.tuples(st.just(i), full_answers(i), st.data())
    )
)
def test_an_answer_set_missing_a_required_item_is_rejected_naming_it(
    case: tuple[str, dict[str, Any], st.DataObject],
) -> None:
    instrument, answers, data = case
    required = [i.key for i in s.definition(instrument).items if i.required]
    dropped = data.draw(st.sampled_from(required))
    del answers[dropped]
    with pytest.raises(s.ScreeningError) as refused:
        s.score(instrument, answers)
    assert refused.value.field == dropped
    assert isinstance(refused.value, CareError)


@given(st.sampled_from(SUMMED).flatmap(lambda i: st.tuples(st.just(i), full_answers(i), st.data())))
def test_an_answer_outside_the_options_is_rejected_naming_the_item(
    case: tuple[str, dict[str, Any], st.DataObject],
) -> None:
    instrument, answers, data = case
    item = data.draw(st.sampled_from(s.definition(instrument).scored_items))
    answers[item.key] = data.draw(
        st.one_of(st.integers(min_value=item.max_points + 1), st.integers(max_value=-1))
    )
    with pytest.raises(s.ScreeningError) as refused:
        s.score(instrument, answers)
    assert refused.value.field == item.key
    assert f"item {item.number}" in refused.value.message


# --- PHQ-9 (Kroenke, Spitzer & Williams 2001) --------------------------------------------


@pytest.mark.parametrize(
    ("total", "severity", "positive"),
    [
        (0, "None–minimal", False),
        (4, "None–minimal", False),
        (5, "Mild", False),
        (9, "Mild", False),
        (10, "Moderate", True),
        (14, "Moderate", True),
        (15, "Moderately severe", True),
        (19, "Moderately severe", True),
        (20, "Severe", True),
        (24, "Severe", True),
    ],
)
def test_phq9_bands_and_cutoff(total: int, severity: str, positive: bool) -> None:
    result = s.score(s.PHQ9, with_total(total))
    assert (result.score, result.severity, result.positive) == (total, severity, positive)
    assert result.max_score == 27
    assert not result.safety_flag


def test_phq9_of_27_is_severe() -> None:
    result = s.score(s.PHQ9, phq9(*[3] * 9))
    assert (result.score, result.severity, result.positive) == (27, "Severe", True)


def test_phq9_item_9_flags_safety_whatever_the_total() -> None:
    result = s.score(s.PHQ9, with_total(3, item9=1))
    assert result.score == 3
    assert result.severity == "None–minimal"
    assert not result.positive
    assert result.safety_flag
    assert "item 9" in result.interpretation


def test_phq9_item_9_at_not_at_all_does_not_flag() -> None:
    assert not s.score(s.PHQ9, with_total(24, item9=0)).safety_flag


def test_phq9_functional_difficulty_is_recorded_not_scored() -> None:
    without = s.score(s.PHQ9, with_total(12))
    answers = {**with_total(12), "difficulty": "very"}
    result = s.score(s.PHQ9, answers)
    assert result.score == without.score == 12
    assert result.answers["difficulty"] == "very"
    assert "difficulty" not in without.answers
    with pytest.raises(s.ScreeningError) as refused:
        s.score(s.PHQ9, {**answers, "difficulty": "a lot"})
    assert refused.value.field == "difficulty"


def test_phq9_positive_suggests_a_behavioral_health_hand_off() -> None:
    steps = s.score(s.PHQ9, with_total(10)).suggestions
    referral = next(x for x in steps if x.kind == "referral")
    assert referral.category == s.BEHAVIORAL_HEALTH
    assert "warm hand-off" in referral.title
    assert not [x for x in s.score(s.PHQ9, with_total(9)).suggestions if x.kind == "referral"]


def test_phq9_answers_given_as_text_are_stored_as_points() -> None:
    result = s.score(s.PHQ9, {f"q{n}": "1" for n in range(1, 10)})
    assert result.score == 9
    assert result.answers["q1"] == 1


def test_a_boolean_is_not_an_answer() -> None:
    with pytest.raises(s.ScreeningError) as refused:
        s.score(s.PHQ2, {"q1": True, "q2": 0})
    assert refused.value.field == "q1"


def test_an_unknown_item_is_refused() -> None:
    with pytest.raises(s.ScreeningError) as refused:
        s.score(s.PHQ2, {"q1": 0, "q2": 0, "q3": 0})
    assert refused.value.field == "q3"


def test_an_unknown_instrument_is_refused() -> None:
    with pytest.raises(s.ScreeningError) as refused:
        s.score("phq10", {})
    assert refused.value.field == "instrument"


# --- PHQ-2 (Kroenke, Spitzer & Williams 2003) --------------------------------------------


@pytest.mark.parametrize(
    ("q1", "q2", "positive"),
    [(0, 0, False), (1, 1, False), (2, 0, False), (2, 1, True), (3, 3, True)],
)
def test_phq2_is_positive_at_3(q1: int, q2: int, positive: bool) -> None:
    result = s.score(s.PHQ2, {"q1": q1, "q2": q2})
    assert result.score == q1 + q2
    assert result.positive == positive


def test_positive_phq2_suggests_administering_the_phq9() -> None:
    steps = s.score(s.PHQ2, {"q1": 2, "q2": 2}).suggestions
    assert steps == (s.Suggestion("screen", "Administer the PHQ-9", instrument=s.PHQ9),)
    assert s.score(s.PHQ2, {"q1": 1, "q2": 1}).suggestions == ()


# --- GAD-7 (Spitzer et al. 2006) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "severity", "positive"),
    [
        (4, "Minimal", False),
        (5, "Mild", False),
        (9, "Mild", False),
        (10, "Moderate", True),
        (14, "Moderate", True),
        (15, "Severe", True),
        (21, "Severe", True),
    ],
)
def test_gad7_bands_and_cutoff(total: int, severity: str, positive: bool) -> None:
    points = []
    left = total
    for _ in range(7):
        points.append(min(3, left))
        left -= points[-1]
    result = s.score(s.GAD7, {f"q{n}": p for n, p in enumerate(points, start=1)})
    assert (result.score, result.severity, result.positive) == (total, severity, positive)
    assert not result.safety_flag


# --- AUDIT-C (Bush et al. 1998; Bradley et al. 2007) ---------------------------------------


@pytest.mark.parametrize(
    ("sex", "total", "positive"),
    [
        ("male", 3, False),
        ("male", 4, True),
        ("female", 2, False),
        ("female", 3, True),
        ("unknown", 2, False),
        ("unknown", 3, True),
        ("other", 3, True),
    ],
)
def test_audit_c_cutoff_depends_on_sex(sex: str, total: int, positive: bool) -> None:
    answers = {"q1": 1, "q2": 1, "q3": total - 2}
    result = s.score(s.AUDIT_C, answers, sex=sex)
    assert result.score == total
    assert result.positive == positive


def test_audit_c_with_unknown_sex_says_the_lower_cutoff_was_used() -> None:
    result = s.score(s.AUDIT_C, {"q1": 1, "q2": 1, "q3": 1}, sex="unknown")
    assert any("lower" in n and "3" in n for n in result.notes)
    assert not s.score(s.AUDIT_C, {"q1": 1, "q2": 1, "q3": 1}, sex="male").notes


def test_audit_c_points_only_from_question_1_are_noted() -> None:
    result = s.score(s.AUDIT_C, {"q1": 4, "q2": 0, "q3": 0}, sex="male")
    assert result.positive
    assert any("question 1" in n for n in result.notes)


def test_positive_audit_c_suggests_brief_intervention_and_a_program() -> None:
    steps = s.score(s.AUDIT_C, {"q1": 2, "q2": 2, "q3": 1}, sex="male").suggestions
    assert [x.kind for x in steps] == ["task", "referral"]
    assert "Brief intervention" in steps[0].title
    assert "substance-use" in steps[1].title


# --- AHC HRSN (CMS; Billioux et al. 2017) -------------------------------------------------


def test_ahc_all_negative_answers_show_no_need() -> None:
    result = s.score(s.AHC_HRSN, AHC_NEGATIVE)
    assert not result.positive
    assert result.positive_domains == ()
    assert result.suggestions == ()


@pytest.mark.parametrize(
    ("changes", "domains"),
    [
        ({"q1": "worried"}, ("housing",)),
        ({"q1": "not_steady"}, ("housing",)),
        ({"q2": ["mold"]}, ("housing",)),
        ({"q2": ["pests", "water_leaks"]}, ("housing",)),
        ({"q3": "sometimes"}, ("food",)),
        ({"q4": "often"}, ("food",)),
        ({"q5": "yes"}, ("transportation",)),
        ({"q6": "yes"}, ("utilities",)),
        ({"q6": "shut_off"}, ("utilities",)),
        ({"q7": 3, "q8": 3, "q9": 3, "q10": 2}, ("safety",)),
        ({"q7": 5, "q8": 2, "q9": 2, "q10": 1}, ()),
        (
            {"q1": "worried", "q3": "often", "q5": "yes", "q6": "shut_off", "q7": 5, "q8": 5},
            ("housing", "food", "transportation", "utilities", "safety"),
        ),
    ],
)
def test_ahc_domain_rules(changes: dict[str, Any], domains: tuple[str, ...]) -> None:
    result = s.score(s.AHC_HRSN, ahc(**changes))
    assert result.positive_domains == domains
    assert result.positive == bool(domains)


def test_ahc_safety_is_positive_from_a_sum_of_11() -> None:
    ten = s.score(s.AHC_HRSN, ahc(q7=4, q8=3, q9=2, q10=1))
    eleven = s.score(s.AHC_HRSN, ahc(q7=4, q8=3, q9=2, q10=2))
    assert (ten.subscores[s.SAFETY], ten.positive) == (10, False)
    assert (eleven.subscores[s.SAFETY], eleven.positive_domains) == (11, ("safety",))


def test_ahc_none_of_the_above_cannot_go_with_a_problem() -> None:
    with pytest.raises(s.ScreeningError) as refused:
        s.score(s.AHC_HRSN, ahc(q2=["none", "mold"]))
    assert refused.value.field == "q2"


def test_ahc_food_need_suggests_a_food_referral() -> None:
    result = s.score(s.AHC_HRSN, ahc(q3="often"))
    assert result.interpretation == "Positive for: Food insecurity"
    assert result.suggestions == (
        s.Suggestion("referral", "Refer to a food resource", category="food"),
    )


def test_ahc_safety_need_suggests_a_private_talk_and_a_referral() -> None:
    steps = s.score(s.AHC_HRSN, ahc(q7=5, q8=5, q9=1, q10=1)).suggestions
    assert [x.kind for x in steps] == ["task", "referral"]
    assert steps[1].category == "safety"
