"""Shared fixtures: EWT-like sentences, a tiny vector file, and a private cache per test."""

from __future__ import annotations

import numpy as np
import pytest

from tagkit_core.data import Sentence

# Web-text sentences in the style of UD English EWT: mixed case, digits, URLs, e-mail,
# emoticons, typographic quotes, accented letters, one-token lines and long ones.
EWT_LIKE = [
    "Al-Zaman : American forces killed Shaikh Abdullah al-Ani , the preacher at the mosque .",
    "[ This killing of a respected cleric will be causing us trouble for years to come . ]",
    "DPA : Iraqi authorities announced that they had busted up 3 terrorist cells .",
    "Thanks !",
    "Does anyone know a good vet in the 94110 area ?",
    "Call me at 555-0199 or e-mail jane.doe@example.com before 5:30 pm .",
    "The menu is at http://www.example.org/menu.html , prices start at $ 12.50 .",
    "I 've been going here for 10 years and they never disappoint :)",
    "Great",
    "We stayed at the Hôtel Müller in Zürich – wonderful “breakfast” , terrible Wi-Fi .",
    "On 2004-11-23 the board voted 7 to 2 to approve the merger .",
    "If you 're looking for a quick , cheap lunch downtown , this is NOT the place .",
    "Please find attached the revised schedule for Q3 .",
    "lol",
    "My dog , Max , ate 3 socks yesterday and is fine now !!!",
    "The staff were friendly but the room smelled of smoke and the TV did n't work .",
    "Enron 's stock fell 12 % on Tuesday .",
    "Who is going to pay for all of this ?",
    "See you at 8 .",
    "He said the deal , worth about 1.2 billion euros , could close by March .",
    "RE : meeting moved to Thursday",
    "Absolutely the best pizza in town , hands down .",
    "The 1990s were a decade of rapid growth for the region 's economy .",
    "Can u send me the file asap ?",
    "Dr. Smith recommended two tablets every 4 hours .",
    "It was raining , so we stayed in and watched old movies all afternoon long .",
    "Ok",
    "Prices : $ 5 , $ 10 , $ 20 ... nothing in between !",
    "They moved from Berlin to São Paulo in 1998 and never came back .",
    "Let me know what you think of the draft by COB Friday , thanks .",
    "The new policy applies to all employees hired after January 1 , 2005 , including "
    "part-time staff , contractors and interns who work more than 20 hours a week .",
    "Why ?",
]


@pytest.fixture
def ewt_sentences() -> list[Sentence]:
    """32 fresh EWT-like sentences (token lists, so the tokenization is fixed)."""
    assert len(EWT_LIKE) == 32
    return [Sentence(text.split()) for text in EWT_LIKE]


def vocabulary() -> list[str]:
    """Lower-cased words of the sentences above (minus a few, to leave unknown words)."""
    words = dict.fromkeys(w.lower() for text in EWT_LIKE for w in text.split())
    for missing in ("shaikh", "jane.doe@example.com", "zürich", "94110", "555-0199"):
        words.pop(missing, None)
    return list(words) + ["####", "0000", "00"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own TAGKIT_CACHE_DIR, so nothing leaks into ~/.cache."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("TAGKIT_CACHE_DIR", str(path))
    return path


@pytest.fixture
def tiny_vectors():
    """(words, float32 matrix) of a tiny 8-dimensional table, deterministic."""
    words = vocabulary()
    rng = np.random.default_rng(7)
    return words, rng.standard_normal((len(words), 8)).astype(np.float32)


@pytest.fixture
def word2vec_text(tmp_path, tiny_vectors):
    """The tiny table as a word2vec text file (with its ``count dim`` header)."""
    words, matrix = tiny_vectors
    path = tmp_path / "tiny.w2v.txt"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"{len(words)} {matrix.shape[1]}\n")
        for word, row in zip(words, matrix):
            handle.write(word + " " + " ".join(f"{x:.6f}" for x in row) + "\n")
    return path


@pytest.fixture
def fresh():
    """Copies of sentences with the same tokens: no cached ids, no stored embeddings."""

    def copy(sentences: list[Sentence]) -> list[Sentence]:
        return [Sentence([t.text for t in s]) for s in sentences]

    return copy
