"""The form of each screening instrument, built from its definition in `care.screening`.

Fields are optional here on purpose: the scoring module decides what is missing or invalid
and says so naming the item, the same for the pages and the API.
"""

from __future__ import annotations

from typing import Any

from django import forms

from caseboard.care import screening as instruments


def _choice_label(option: instruments.Option, item: instruments.Item) -> str:
    # Show the points beside the answer, as the published forms do, where they count.
    if item.scored:
        return f"{option.label} ({option.points})"
    return option.label


class ScreeningForm(forms.Form):
    administered_on = forms.DateField(
        label="Administered on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, instrument: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.definition = instruments.definition(instrument)
        for item in self.definition.items:
            choices = [(str(o.value), _choice_label(o, item)) for o in item.options]
            field: forms.Field
            if item.multiple:
                field = forms.MultipleChoiceField(
                    label=item.text,
                    choices=choices,
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                )
            else:
                field = forms.ChoiceField(
                    label=item.text, choices=choices, required=False, widget=forms.RadioSelect
                )
            field.item = item  # type: ignore[attr-defined]
            self.fields[item.key] = field

    def item_fields(self) -> list[forms.BoundField]:
        return [self[item.key] for item in self.definition.items]

    def answers(self) -> dict[str, object]:
        return {item.key: self.cleaned_data.get(item.key) for item in self.definition.items}
