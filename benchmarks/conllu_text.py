"""The words and UPOS tags of a CoNLL-U file, for the benchmark scripts.

Why not tagkit's own reader (``tagkit_datasets``): these scripts also run in Flair's
environment, where tagkit is not installed, and both systems must get the very same words.
Multi-word token ranges (``3-4``) and empty nodes (``5.1``) are skipped, as both loaders do.
"""

from __future__ import annotations


def read_sentences(path) -> list[tuple[list[str], list[str]]]:
    """``(words, upos tags)`` per sentence."""
    sentences, words, tags = [], [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line:
                if words:
                    sentences.append((words, tags))
                words, tags = [], []
            elif not line.startswith("#"):
                columns = line.split("\t")
                if columns[0].isdigit():
                    words.append(columns[1])
                    tags.append(columns[3])
    if words:
        sentences.append((words, tags))
    return sentences
