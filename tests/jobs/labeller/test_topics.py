"""The taxonomy loader: clear errors for a bad analyst-edited file."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.labeller.topics import TaxonomyError, load_taxonomy


def test_taxonomy_errors_are_clear(tmp_path: Path):
    bad = tmp_path / "taxonomy.yaml"
    bad.write_text("topics:\n  Delivery:\n    label_fr: x\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="lower_snake_case"):
        load_taxonomy(bad)
    bad.write_text(
        "topics:\n  a:\n    label_fr: A\n    label_en: A\n    description_fr: d\n    description_en: d\n"
        "    keywords: ['(unclosed']\n  other:\n    label_fr: O\n    label_en: O\n    description_fr: o\n"
        "    description_en: o\n",
        encoding="utf-8",
    )
    with pytest.raises(TaxonomyError, match="invalid keyword pattern"):
        load_taxonomy(bad)
    tax = load_taxonomy()
    assert tax.fallback == "other" and "delivery" in tax.ids and len(tax.ids) == 10
