"""Text hygiene (jobs.labeller.text.prepare): what every label reads."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.labeller.text import prepare

WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("voir HTTPS://Exemple.fr/x et WWW.Site.com svp", "voir et svp"),
        ("merci @Marque_FR !!!!", "merci !!"),
        ("#LivraisonRatée encore", "Livraison Ratée encore"),
        ("trooooop bien...... ??? ", "troop bien.. ??"),
        ("a\u00a0\u2003b\u3000\x1cc\n\td", "a b c d"),  # every kind of space becomes one
        ("😊👍🏽", ""),
    ],
)
def test_prepare_cleans(text, clean):
    assert prepare(text).clean == clean


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*WHITESPACE, "a", "é", "!", "#x", "@y", "http://z", "www.w", "..."]), max_size=30))
def test_clean_text_has_single_inner_spaces_only(pieces):
    clean = prepare("".join(pieces)).clean
    assert clean == clean.strip()
    assert "  " not in clean
    assert not any(ch.isspace() and ch != " " for ch in clean)
