"""The built-in tokenizer keeps user-perceived characters whole: emoji sequences and accents."""

from __future__ import annotations

import regex
from hypothesis import given
from hypothesis import strategies as st

from tagkit_core.data import Sentence
from tagkit_core.tokenization import tokenize

FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # man ZWJ woman ZWJ girl
GERMANY, FRANCE = "\U0001F1E9\U0001F1EA", "\U0001F1EB\U0001F1F7"  # regional indicator pairs
THUMBS_UP_MEDIUM = "\U0001F44D\U0001F3FD"  # thumbs up + skin tone modifier
KEYCAP_ONE, KEYCAP_TWO = "1\ufe0f\u20e3", "2\ufe0f\u20e3"
ECOLE = "e\u0301cole"  # e + combining acute accent, not the precomposed é


def test_emoji_sequences_are_one_token_each():
    assert tokenize(f"My family {FAMILY} says hi!") == ["My", "family", FAMILY, "says", "hi", "!"]
    assert tokenize(f"Flags {GERMANY}{FRANCE} and {THUMBS_UP_MEDIUM}.") == [
        "Flags", GERMANY, FRANCE, "and", THUMBS_UP_MEDIUM, "."]
    assert tokenize(f"Press {KEYCAP_ONE}{KEYCAP_TWO} now") == [
        "Press", KEYCAP_ONE, KEYCAP_TWO, "now"]
    assert tokenize(f"wow{THUMBS_UP_MEDIUM}{FAMILY}") == ["wow", THUMBS_UP_MEDIUM, FAMILY]


def test_combining_accents_stay_in_their_word():
    assert tokenize(f"{ECOLE} and cafe\u0301.") == [ECOLE, "and", "cafe\u0301", "."]
    assert tokenize("Devanagari हिन्दी भाषा।") == ["Devanagari", "हिन्दी", "भाषा", "।"]
    assert tokenize("Zürich's cafe\u0301's") == ["Zürich", "'s", "cafe\u0301", "'s"]


def test_a_lone_combining_mark_is_its_own_token_and_joins_nothing():
    assert tokenize("x \u0301y") == ["x", "\u0301", "y"]
    assert tokenize("\u0301start") == ["\u0301", "start"]
    assert tokenize("a \u0301\u0302 b") == ["a", "\u0301\u0302", "b"]


def test_sentence_offsets_with_emoji_and_accents():
    text = f"I {THUMBS_UP_MEDIUM} {ECOLE}!"
    sentence = Sentence(text)
    assert [t.text for t in sentence] == ["I", THUMBS_UP_MEDIUM, ECOLE, "!"]
    assert [t.start_position for t in sentence] == [0, 2, 5, 11]
    assert sentence.to_original_text() == text


def test_ascii_behaviour_is_unchanged():
    assert tokenize("See https://example.org/a?b=1, or mail a.b@c.de at 12:30 -- U.S. style...") \
        == ["See", "https://example.org/a?b=1", ",", "or", "mail", "a.b@c.de", "at", "12:30",
            "--", "U.S.", "style", "..."]
    assert tokenize("They'll say I'd won't") == ["They", "'ll", "say", "I", "'d", "wo", "n't"]


PIECES = ["a", "Z", "é", "7", " ", "  ", ".", ",", "'", "-", "\u0301", "\u0308", "\u200d",
          "\ufe0f", "\u20e3", "\U0001F468", "\U0001F469", "\U0001F44D", "\U0001F3FD",
          "\U0001F1E9", "\U0001F1EA", "\u0915", "\u093f", "\u094d", "ß", "\n"]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_tokens_cover_the_text_and_end_on_cluster_boundaries(text):
    tokens = tokenize(text)
    assert "".join(tokens) == regex.sub(r"\s+", "", text)  # nothing lost, nothing repeated
    cluster_ends = {match.end() for match in regex.finditer(r"\X", text)}
    position = 0
    for token in tokens:
        start = text.index(token, position)
        assert not regex.search(r"\s", token)
        position = start + len(token)
        assert position in cluster_ends, (text, tokens, token)
