from django import forms


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Find a patient",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": "Name, date of birth (YYYY-MM-DD) or member ID / MRN"}
        ),
    )


class RosterUploadForm(forms.Form):
    file = forms.FileField(label="Roster CSV file")
    good_rows_only = forms.BooleanField(
        label="Import the good rows even if some rows are bad (bad rows listed for download)",
        required=False,
    )
