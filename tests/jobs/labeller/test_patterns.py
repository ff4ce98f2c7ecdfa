"""PatternSet gives exactly re's answers, with or without Hyperscan, on the labeller's own patterns."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.labeller import get_labeller
from jobs.labeller import patterns as patterns_module
from jobs.labeller.patterns import PatternSet
from jobs.labeller.text import prepare


def labeller_pattern_sets() -> dict[str, PatternSet]:
    from jobs.labeller import criticism, question, sentiment, topics, toxic

    return {
        "sentiment phrases": sentiment.phrase_patterns()[0],
        "toxicity": toxic.rule_patterns()[0],
        "criticism": criticism.rule_patterns(),
        "constructive": criticism.constructive_patterns(),
        "question": question.rule_patterns(),
        "topic keywords": topics.keyword_patterns(get_labeller().taxonomy)[1],
    }


def vocabulary() -> list[str]:
    """Words and word pairs the patterns are made of, so that random texts actually hit them."""
    from jobs.labeller import lexicon as lx

    words: set[str] = set()
    for source in (
        [p for p, _ in lx.PHRASE_VALENCE],
        [p for p, _ in lx.TOXIC_PATTERNS],
        lx.COMPLAINT_PATTERNS,
        lx.SUGGESTION_PATTERNS,
        lx.CAUSE_PATTERNS,
        lx.INDIRECT_QUESTION_PATTERNS,
        lx.RHETORICAL_PATTERNS,
        lx.TO_FRIENDS_PATTERNS,
        [lx.BRAND_TARGET],
        *[t.keywords for t in get_labeller().taxonomy.topics.values()],
    ):
        for pattern in source:
            words.update(re.findall(r"[a-z']{2,}", pattern))
    return sorted(words | set(lx.WEAK_INSULTS) | set(lx.STRONG_INSULTS) | {"tu", "vous", "you", "!", "?", "_"})


def assert_same_as_re(pattern_set: PatternSet, text: str) -> None:
    found = pattern_set.scan(text)
    expected = [i for i, p in enumerate(pattern_set.patterns) if p.search(text)]
    assert [i for i in range(len(pattern_set.patterns)) if found.search(i)] == expected, text
    assert pattern_set.matching(text) == expected, text


def test_every_labeller_pattern_goes_through_hyperscan():
    for name, pattern_set in labeller_pattern_sets().items():
        assert pattern_set._database is not None, name
        assert not pattern_set._always, f"{name}: patterns left to re alone: {pattern_set._always}"


def test_same_answers_as_re_on_texts_built_from_the_lexicon():
    sets = labeller_pattern_sets()
    vocab = vocabulary()

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(vocab), min_size=0, max_size=25), st.sampled_from([" ", "  ", ", ", " ... "]))
    def check(words, separator):
        text = prepare(separator.join(words)).folded
        for pattern_set in sets.values():
            assert_same_as_re(pattern_set, text)

    check()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "vous etes des voleurs, jamais plus",
        "service client nul\x1cnul",  # a separator re's \s matches and PCRE's does not
        "pas terrible le café",  # not ASCII: re alone
        "ta gueule " * 500,
    ],
)
def test_same_answers_as_re_on_edge_texts(text):
    for pattern_set in labeller_pattern_sets().values():
        assert_same_as_re(pattern_set, text)


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
def test_patterns_hyperscan_reads_differently_are_left_to_re():
    # Python reads "[[:alpha:]]" as a set of "[:alph" then "]", PCRE as any letter; "x{,2}" is
    # x{0,2} in Python and literal text in PCRE; a conditional group Hyperscan cannot compile.
    tricky = [
        re.compile(r"[[:alpha:]]"),
        re.compile(r"ab{,2}c"),
        re.compile(r"(<)?x(?(1)>|y)"),
        re.compile("(?i)Bonjour"),
    ]
    pattern_set = PatternSet(tricky)
    assert pattern_set._always == {0, 1, 3} or pattern_set._always == {0, 1, 2, 3}
    for text in [":]", "ac", "abbc", "ab{,2}c", "<x>", "xy", "bonjour", "zzz"]:
        assert_same_as_re(pattern_set, text)
    # re's \s also matches the ASCII separators \x1c-\x1f, PCRE's does not: such texts go to re.
    spaced = PatternSet([re.compile(r"nul\snul")])
    assert spaced._database is not None
    assert spaced.matching("nul\x1cnul") == [0]


def test_without_hyperscan_every_pattern_is_tried(monkeypatch):
    monkeypatch.setattr(patterns_module, "hyperscan", None)
    pattern_set = PatternSet([re.compile(r"\bnul\b"), re.compile(r"merci")])
    assert pattern_set._database is None
    assert pattern_set.matching("c'est nul, merci") == [0, 1]
    assert pattern_set.scan("rien").search(0) is None


def test_scans_in_threads_do_not_share_scratch_space():
    from concurrent.futures import ThreadPoolExecutor

    pattern_set = labeller_pattern_sets()["topic keywords"]
    texts = [prepare(t).folded for t in ["livraison en retard", "appli qui plante", "prix trop cher"] * 200]
    expected = [pattern_set.matching(t) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(pattern_set.matching, texts)) == expected


def test_compiled_databases_are_cached_on_disk(monkeypatch, tmp_path):
    monkeypatch.setattr(patterns_module, "_cache_dir", tmp_path)  # as a labeller config sets it
    patterns = [re.compile(r"\bservice client\b"), re.compile(r"\brembours\w*")]
    first = PatternSet(patterns)
    cached = list(tmp_path.glob("hyperscan-*.db"))
    assert len(cached) == 1
    text = "le service client n'a rien fait"
    assert PatternSet(patterns).matching(text) == first.matching(text) == [0]

    cached[0].write_bytes(b"not a database")  # damaged or built elsewhere: compiled again
    assert PatternSet(patterns).matching("service client, remboursement") == [0, 1]


def test_unwritable_cache_only_costs_time(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(patterns_module, "_cache_dir", blocker / "cache")  # cannot be created
    assert PatternSet([re.compile(r"\bnul\b")]).matching("franchement nul") == [0]
