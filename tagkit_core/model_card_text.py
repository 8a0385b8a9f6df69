"""A model file's card for people: plain text for ``tagkit info``, a README.md for a model hub.

Both are made from a checked header (:func:`tagkit_core.model_card.read_model_header`), so
the card's strings hold no control character; the README still escapes every string taken
from the file for Markdown and HTML (a corpus named ``<script>`` stays text on a hub page),
and its YAML front matter writes every string as a JSON string (``<>&`` escaped too), which
YAML reads as the same double-quoted scalar. A file without a card gets what its header
tells: the model and its components.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from tagkit_core.model_schema import CARD_KEY, is_spec

__all__ = ["components", "card_text", "card_readme", "README_MARKER"]

#: The line after the front matter of every README.md tagkit writes (``tagkit info --readme``
#: replaces only files that hold it; a hub reads the front matter only at the very start).
README_MARKER = "<!-- model card written by tagkit info --readme -->"
_NO_CARD = ("no model card: this file was written without one (by a tagkit before model "
            "cards, or by Model.save outside a training run)")


def components(header: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component spec of the header, model first: kind, type, distribution, version."""
    found, todo = [], [header["model"]]
    while todo:
        item = todo.pop(0)
        if is_spec(item):
            found.append({key: item[key] for key in ("tagkit_component", "type", "distribution",
                                                     "version")})
            todo.extend(item["config"].values())
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return found


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def _scores(section: dict[str, Any]) -> str:
    return ", ".join(f"{name} {_fmt(value)}" for name, value in (section.get("scores") or {}
                                                                   ).items())


def _split_sizes(part: dict[str, Any]) -> str:
    return f"{_fmt(part.get('train'))} train / {_fmt(part.get('dev'))} dev / " \
           f"{_fmt(part.get('test'))} test sentences"


def _component(spec: dict[str, Any]) -> str:
    if not spec["distribution"]:
        return f"{spec['type']} (distribution unknown)"
    return f"{spec['type']} from {spec['distribution']} {spec['version'] or ''}".rstrip()


def _seconds(training: dict[str, Any]) -> str:
    seconds = training.get("training_seconds")
    return "-" if seconds is None else f"{seconds:.1f} s"


def card_text(header: dict[str, Any], name: str) -> str:
    """The card of the file called ``name`` as aligned ``label: value`` lines."""
    card = header.get(CARD_KEY) or {}
    model, corpus = card.get("model") or {}, card.get("corpus") or {}
    training, versions = card.get("training") or {}, card.get("versions") or {}
    spec = header["model"]
    lines = [("file", name),
             ("model", f"{model.get('class') or spec['type']} ({_component(spec)})")]
    if not card:
        lines += [("components", "; ".join(_component(c) for c in components(header)[1:])
                   or "-"), ("model card", _NO_CARD)]
        return "\n".join(f"{key + ':':<13} {value}" for key, value in lines)
    labels = model.get("labels") or []
    shown = ", ".join(labels[:40]) + (", ..." if len(labels) > 40 else "")
    lines += [("label type", _fmt(model.get("label_type"))),
              ("labels", f"{_fmt(model.get('dictionary_size'))}: {shown}"),
              ("parameters", f"{model['parameters']:,}" if model.get("parameters") is not None
               else "-")]
    for split in ("test", "dev"):
        section = card.get(split)
        if not section:
            lines.append((f"{split} score", f"none (no {split} split was scored)"))
            continue
        where = f" (of {section['model_file']})" if section.get("model_file") else ""
        where += f" (epoch {section['epoch']})" if section.get("epoch") else ""
        lines.append((f"{split} score", f"{_fmt(section.get('main_score'))} "
                      f"{section.get('main_score_name') or ''}{where}".replace("  ", " ")))
        lines.append(("", _scores(section)))
    lines.append(("corpus", f"{_fmt(corpus.get('name'))}: {_split_sizes(corpus)}"))
    lines += [("", f"- {_fmt(part.get('name'))}: {_split_sizes(part)}")
              for part in corpus.get("corpora") or []]
    lines.append(("training", f"epochs {_fmt(training.get('epoch'))} (best "
                  f"{_fmt(training.get('best_epoch'))}), seed {_fmt(training.get('seed'))}, "
                  f"{_fmt(training.get('optimizer'))}, {_seconds(training)}"))
    lines.append(("", f"started {_fmt(training.get('started'))}, card written "
                      f"{_fmt(training.get('date'))}"))
    options = ", ".join(f"{key}={json.dumps(value)}"
                        for key, value in (training.get("options") or {}).items())
    lines += [("options" if i == 0 else "", line)
              for i, line in enumerate(textwrap.wrap(options, 86) or ["-"])]
    lines.append(("versions", ", ".join(f"{k} {_fmt(v)}" for k, v in versions.items())))
    report = (card.get("test") or {}).get("classification_report") or {}
    if report:
        columns = list(next(iter(report.values())))
        lines.append(("per class", "test".ljust(16) + "".join(f"{c[:10]:>11}" for c in columns)))
        lines += [("", f"{label[:15]:<16}" + "".join(f"{_fmt(row.get(c)):>11}" for c in columns))
                  for label, row in list(report.items())[:60]]
        lines += [("", f"... and {len(report) - 60} more")] if len(report) > 60 else []
    return "\n".join(f"{key + ':' if key else '':<13} {value}" for key, value in lines)


# -- README.md --------------------------------------------------------------------------------
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def _md(value: Any) -> str:
    """``value`` as inert Markdown text: HTML characters as entities, Markdown ones escaped."""
    text = _fmt(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def _yaml(value: Any) -> str:
    """``value`` as a JSON scalar, which YAML reads alike; ``<>&`` as escapes, so no HTML
    from the file appears even in the front matter."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")\
        .replace("&", "\\u0026")


def _task(model_type: str) -> str | None:
    if "tagger" in model_type:
        return "token-classification"
    if "classifier" in model_type:
        return "text-classification"
    return None


def _front_matter(header: dict[str, Any], card: dict[str, Any]) -> list[str]:
    model, corpus = card.get("model") or {}, card.get("corpus") or {}
    test = card.get("test") or {}
    spec_type = header["model"]["type"]
    tags = ["tagkit", spec_type, *([model["label_type"]] if model.get("label_type") else [])]
    task = _task(spec_type)
    tags += [task] if task else []
    lines = ["---", "library_name: tagkit", "tags:", *[f"- {_yaml(t)}" for t in tags]]
    if corpus.get("name"):
        lines += ["datasets:", f"- {_yaml(corpus['name'])}"]
    scores = {k: v for k, v in (test.get("scores") or {}).items() if v is not None}
    if scores:
        lines += ["metrics:", *[f"- {_yaml(k)}" for k in scores]]
    if scores and task:
        lines += ["model-index:", f"- name: {_yaml(model.get('class') or spec_type)}",
                  "  results:", "  - task:", f"      type: {task}", "    dataset:",
                  f"      name: {_yaml(corpus.get('name') or 'unknown')}",
                  f"      type: {_yaml(corpus.get('name') or 'unknown')}",
                  "      split: test", "    metrics:"]
        for key, value in scores.items():
            lines += [f"    - type: {_yaml(key)}", f"      value: {value!r}",
                      f"      name: {_yaml('test ' + key)}"]
    return lines + ["---"]


def card_readme(header: dict[str, Any], file_name: str) -> str:
    """A Hugging Face-style README.md (YAML front matter, then Markdown) for the model file."""
    card = header.get(CARD_KEY) or {}
    model, corpus = card.get("model") or {}, card.get("corpus") or {}
    training = card.get("training") or {}
    name = model.get("class") or header["model"]["type"]
    out = [*_front_matter(header, card), README_MARKER, "",
           f"# {_md(name)} trained with tagkit", ""]
    if not card:
        out += [_md(_NO_CARD), ""]
    else:
        out += [f"A {_md(name)} predicting {_md(model.get('label_type'))} labels "
                f"({_md(model.get('dictionary_size'))} in its dictionary), trained on "
                f"{_md(corpus.get('name'))} ({_md(_split_sizes(corpus))}) for "
                f"{_md(training.get('epoch'))} epochs with seed {_md(training.get('seed'))}.",
                "", "## Results", "", "| split | metric | value |", "|---|---|---|"]
        for split in ("test", "dev"):
            for key, value in ((card.get(split) or {}).get("scores") or {}).items():
                out.append(f"| {split} | {_md(key)} | {_md(value)} |")
        report = (card.get("test") or {}).get("classification_report") or {}
        if report:
            columns = list(next(iter(report.values())))
            out += ["", "Per class (test):", "", "| label | " + " | ".join(map(_md, columns))
                    + " |", "|---" * (len(columns) + 1) + "|"]
            out += [f"| {_md(label)} | " + " | ".join(_md(row.get(c)) for c in columns) + " |"
                    for label, row in report.items()]
        out += ["", "## Training", "", "| option | value |", "|---|---|"]
        out += [f"| {_md(key)} | {_md(json.dumps(value))} |"
                for key, value in (training.get("options") or {}).items()]
        out += ["", f"Optimizer {_md(training.get('optimizer'))}; best dev epoch "
                f"{_md(training.get('best_epoch'))}; training time "
                f"{_md(_seconds(training))}; started "
                f"{_md(training.get('started'))}.", "", "## Versions", ""]
        out += [f"- {_md(key)} {_md(value)}" for key, value in
                (card.get("versions") or {}).items()]
    out += ["", "## Components", ""]
    out += [f"- {_md(spec['tagkit_component'])} {_md(_component(spec))}"
            for spec in components(header)]
    out += ["", "## Usage", "", "```python", "from tagkit_core import Sentence, load_model", "",
            f"model = load_model({json.dumps(file_name).replace('`', chr(92) + 'u0060')})",
            'sentence = Sentence("I love Berlin")', "model.predict(sentence)",
            "print(sentence.to_tagged_string())", "```", ""]
    return "\n".join(out)
