"""Distinct voices (jobs/alerts/series.py): the criticism series counts each author and each repeated
text once within a few hours, so a bot or a copy-paste campaign does not pass for a crisis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.alerts import CriticalMention, build_series, text_key, voice_weights, voices

T0 = datetime(2026, 10, 20, 14, tzinfo=UTC)


def _m(minutes: int, author: str, text: str, channel: str = "facebook:p") -> CriticalMention:
    return CriticalMention(T0 + timedelta(minutes=minutes), channel, author, text_key(text))


def test_text_key_ignores_case_links_handles_and_punctuation_but_not_short_texts() -> None:
    assert text_key("Livraison JAMAIS arrivée !! https://x.y/z @marque") == text_key("livraison jamais arrivée")
    assert text_key("Honteux !") is None  # many people write that without copying anyone
    assert text_key(None) is None


def test_repeats_of_an_author_or_a_text_count_once_within_the_window() -> None:
    mentions = [
        _m(0, "a1", "Commande jamais livrée depuis dix jours"),
        _m(5, "a1", "Et toujours aucune réponse du service client"),  # same author
        _m(6, "bot1", "Gagnez un iPhone en cliquant sur ce lien"),
        _m(7, "bot2", "Gagnez un iPhone en cliquant sur ce lien"),  # same text, other account
        _m(8, "a2", "Honteux !"),
        _m(9, "a3", "Honteux !"),  # short: two voices
        _m(60 * 7, "a1", "Commande jamais livrée depuis dix jours"),  # 7 h later: a voice again
    ]
    assert voice_weights(mentions) == [1, 0, 1, 0, 1, 1, 1]


def test_series_and_explanation_say_when_a_rise_is_mostly_repeats() -> None:
    bots = [_m(i, f"bot{i}", "Boycott cette marque partagez ce message") for i in range(30)]
    people = [_m(i, f"a{i}", f"Mon colis numéro {i} est perdu depuis lundi") for i in range(10)]
    [series] = build_series(bots + people, T0 + timedelta(hours=1), 60)
    assert series.counts == [11.0] and series.messages == [40]
    why = voices(series, 0, 60)
    assert why == {"messages": 40, "distinct_authors": 40, "repeat_share": 0.725, "mostly_repeats": True}
