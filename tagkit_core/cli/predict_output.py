"""Output of ``tagkit predict``: one writer per format, each a function of one sentence.

The writers do not know the model's class: a tagger leaves labels of ``label_name`` on the
tokens, a classifier on the sentence, and each writer looks at which it got. That keeps the
command working for any model a plugin registers, as long as its ``predict`` writes labels the
way the core's :class:`~tagkit_core.data.Sentence` holds them.

* ``text``: the Flair-style tagged string, one line per sentence
  (``Sentence[3]: "I love Berlin" → ["I"/PRON, "love"/VERB, "Berlin"/PROPN]``).
* ``conll``: one ``TOKEN<TAB>TAG`` line per token and a blank line after each sentence; a
  classifier's labels come first as ``# LABEL_NAME = VALUE<TAB>SCORE`` comment lines.
* ``jsonl``: one JSON object per sentence: ``text``, ``tokens``, and ``labels`` and ``scores``
  (one per token for a tagger; the sentence's labels, best first, for a classifier), plus
  ``level`` (``token`` or ``sentence``).
"""

from __future__ import annotations

import json
from typing import Callable, TextIO

from tagkit_core.data import Sentence

__all__ = ["OUTPUT_FORMATS", "writer", "predicted_labels"]

OUTPUT_FORMATS = ("text", "conll", "jsonl")

Writer = Callable[[Sentence, TextIO], None]


def predicted_labels(sentence: Sentence, label_name: str) -> tuple[str, list[str], list[float]]:
    """``(level, values, scores)``: per token when the tokens carry ``label_name``, else the
    sentence's own labels of that name (none when the model gave none, e.g. an empty text)."""
    tokens = sentence.tokens
    if any(token.has_label(label_name) for token in tokens):
        labels = [token.get_label(label_name) for token in tokens]
        return "token", [label.value for label in labels], [label.score for label in labels]
    labels = sentence.get_labels(label_name)
    return "sentence", [label.value for label in labels], [label.score for label in labels]


def writer(output_format: str, label_name: str) -> Writer:
    """The function writing one predicted sentence in ``output_format``."""
    if output_format == "text":
        return lambda sentence, out: out.write(sentence.to_tagged_string(label_name) + "\n")
    if output_format == "conll":
        return lambda sentence, out: _write_conll(sentence, out, label_name)
    if output_format == "jsonl":
        return lambda sentence, out: _write_jsonl(sentence, out, label_name)
    raise ValueError(f"unknown output format {output_format!r}; expected one of "
                     f"{', '.join(OUTPUT_FORMATS)}")


def _write_conll(sentence: Sentence, out: TextIO, label_name: str) -> None:
    level, values, scores = predicted_labels(sentence, label_name)
    if level == "token":
        lines = [f"{token.text}\t{value}\n" for token, value in zip(sentence.tokens, values)]
    else:
        lines = [f"# {label_name} = {value}\t{score:.4f}\n" for value, score in zip(values, scores)]
        lines += [f"{token.text}\n" for token in sentence.tokens]
    lines.append("\n")
    out.write("".join(lines))


def _write_jsonl(sentence: Sentence, out: TextIO, label_name: str) -> None:
    level, values, scores = predicted_labels(sentence, label_name)
    record = {"text": sentence.to_original_text(),
              "tokens": [token.text for token in sentence.tokens],
              "level": level, "labels": values, "scores": [round(s, 6) for s in scores]}
    out.write(json.dumps(record, ensure_ascii=False) + "\n")
