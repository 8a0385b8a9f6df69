"""The data types every component shares: Label, Token, Span and Sentence.

A Sentence owns its tokens and two caches that keep the hot path in tensors:

* ``sentence.cache`` holds per-sentence values a component computes once and reuses every
  epoch (for example the vocabulary ids of its tokens), keyed by the component's name.
* ``sentence.embeddings`` holds one ``(len(sentence), dim)`` tensor per embedding name, so
  a batch is assembled from whole tensors and ``token.embedding`` is a cheap view into them.

Labels on tokens (POS tags, BIO tags) live on the tokens; labels on the whole sentence (a text
class) live on the sentence. ``Sentence.labels`` returns both, sentence labels first, as Flair's
``Sentence.labels`` does, so ``print(sentence.labels)`` shows whatever a model predicted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from tagkit_core.spans import decode_spans
from tagkit_core.tokenization import tokenize

if TYPE_CHECKING:  # pragma: no cover - typing only; torch is imported lazily at run time
    import torch

__all__ = ["Label", "Token", "Span", "Sentence"]


class Label:
    """A value of some type (``pos``, ``ner``, ``class``) with a confidence score."""

    __slots__ = ("value", "score")

    def __init__(self, value: str, score: float = 1.0) -> None:
        self.value = value
        self.score = float(score)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Label) and (self.value, self.score) == (other.value, other.score)

    def __hash__(self) -> int:
        return hash((self.value, self.score))

    def __repr__(self) -> str:
        return f"{self.value} ({self.score:.4f})"


class Token:
    """One word of a sentence, with its labels by type and a view of its embedding."""

    __slots__ = ("text", "idx", "whitespace_after", "start_position", "sentence", "_labels")

    def __init__(
        self,
        text: str,
        idx: int = 0,
        whitespace_after: bool = True,
        start_position: int | None = None,
        sentence: Sentence | None = None,
    ) -> None:
        self.text = text
        self.idx = idx  # 1-based position, as in CoNLL files and Flair
        self.whitespace_after = whitespace_after
        self.start_position = start_position
        self.sentence = sentence
        self._labels: dict[str, Label] = {}

    # -- labels ---------------------------------------------------------------------------------
    def add_label(self, label_type: str, value: str, score: float = 1.0) -> None:
        """Set the label of ``label_type`` (a token has at most one label per type)."""
        self._labels[label_type] = Label(value, score)

    set_label = add_label

    def get_label(self, label_type: str) -> Label:
        """The label of ``label_type``; an ``O`` label with score 0 when the token has none."""
        return self._labels.get(label_type) or Label("O", 0.0)

    def get_tag(self, label_type: str) -> str:
        """Shortcut for ``get_label(label_type).value``."""
        label = self._labels.get(label_type)
        return label.value if label is not None else "O"

    def has_label(self, label_type: str) -> bool:
        return label_type in self._labels

    def remove_label(self, label_type: str) -> None:
        self._labels.pop(label_type, None)

    @property
    def labels(self) -> list[Label]:
        return list(self._labels.values())

    @property
    def label_types(self) -> list[str]:
        return list(self._labels)

    # -- embeddings -----------------------------------------------------------------------------
    @property
    def embedding(self) -> torch.Tensor:
        """The concatenation of every embedding computed for this token (empty if none)."""
        return self.get_embedding()

    def get_embedding(self, names: Sequence[str] | None = None) -> torch.Tensor:
        if self.sentence is None:
            raise ValueError(f"token {self.text!r} belongs to no sentence, so it has no embedding")
        return self.sentence.token_embedding(self.idx - 1, names)

    def __len__(self) -> int:
        return len(self.text)

    def __repr__(self) -> str:
        return f'Token[{self.idx - 1}]: "{self.text}"'


class Span:
    """A run of consecutive tokens carrying one tag, e.g. a named entity decoded from BIO tags."""

    __slots__ = ("tokens", "tag", "score", "label_type")

    def __init__(self, tokens: list[Token], tag: str, score: float = 1.0,
                 label_type: str | None = None) -> None:
        self.tokens = tokens
        self.tag = tag
        self.score = score
        self.label_type = label_type  # the tag type it was decoded from (get_spans)

    @property
    def text(self) -> str:
        return "".join(t.text + (" " if t.whitespace_after else "") for t in self.tokens).strip()

    @property
    def start(self) -> int:
        """0-based index of the first token."""
        return self.tokens[0].idx - 1

    @property
    def end(self) -> int:
        """0-based index one past the last token."""
        return self.tokens[-1].idx

    @property
    def start_position(self) -> int | None:
        """Character offset of the span in the sentence's text (None without offsets)."""
        return self.tokens[0].start_position

    @property
    def end_position(self) -> int | None:
        """Character offset one past the span's last character (None without offsets)."""
        last = self.tokens[-1]
        return None if last.start_position is None else last.start_position + len(last.text)

    @property
    def labels(self) -> list[Label]:
        return [Label(self.tag, self.score)]

    def get_labels(self, label_type: str | None = None) -> list[Label]:
        """Flair's reading of a span: its one label, if of ``label_type`` (any when None)."""
        return self.labels if label_type in (None, self.label_type) else []

    def get_label(self, label_type: str | None = None, zero_tag_value: str = "O") -> Label:
        labels = self.get_labels(label_type)
        return labels[0] if labels else Label(zero_tag_value, 0.0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Span) and (self.start, self.end, self.tag) == (
            other.start,
            other.end,
            other.tag,
        )

    def __hash__(self) -> int:
        return hash((self.start, self.end, self.tag))

    def __repr__(self) -> str:
        return f'Span[{self.start}:{self.end}]: "{self.text}" → {self.tag} ({self.score:.4f})'


class Sentence:
    """A sequence of tokens, built from raw text (tokenized) or from a list of words.

    ``Sentence("I love Berlin.")`` tokenizes with :func:`tagkit_core.tokenization.tokenize`,
    which splits punctuation off words as Flair's default tokenizer does. Pass a list of
    strings to keep an existing tokenization, or ``use_tokenizer=False`` to split on spaces.
    """

    __slots__ = ("tokens", "_labels", "cache", "embeddings", "corpus_name", "_previous", "_next",
                 "starts_document", "__weakref__")

    def __init__(
        self,
        text: str | Sequence[str] = (),
        use_tokenizer: bool | Callable[[str], list[str]] = True,
        corpus_name: str | None = None,
    ) -> None:
        self.tokens: list[Token] = []
        self._labels: dict[str, list[Label]] = {}
        self.cache: dict[str, object] = {}
        self.embeddings: dict[str, torch.Tensor] = {}
        self.corpus_name = corpus_name
        # Neighbours in the corpus file, and whether a document starts here: the context
        # some embeddings read (tagkit_core.context); unset for a sentence on its own.
        self._previous: Sentence | None = None
        self._next: Sentence | None = None
        self.starts_document = False
        if isinstance(text, str):
            if callable(use_tokenizer):
                words = use_tokenizer(text)
            elif use_tokenizer:
                words = tokenize(text)
            else:
                words = text.split()
            self._add_words_with_offsets(text, words)
        else:
            for word in text:  # spacing unknown: every token keeps whitespace_after=True
                self.add_token(word)

    def _add_words_with_offsets(self, text: str, words: list[str]) -> None:
        position = 0
        for word in words:
            found = text.find(word, position)
            start = found if found >= 0 else position
            position = start + len(word)
            token = self.add_token(word, start_position=start)
            token.whitespace_after = position < len(text) and text[position].isspace()
        if self.tokens:
            self.tokens[-1].whitespace_after = False

    def add_token(self, token: str | Token, start_position: int | None = None) -> Token:
        """Append a token (a string or a Token) and return it."""
        if isinstance(token, str):
            token = Token(token, start_position=start_position)
        token.idx = len(self.tokens) + 1
        token.sentence = self
        self.tokens.append(token)
        return token

    # -- sentence-level labels ------------------------------------------------------------------
    def add_label(self, label_type: str, value: str, score: float = 1.0) -> Sentence:
        """Add a sentence-level label (a sentence may carry several labels of one type)."""
        self._labels.setdefault(label_type, []).append(Label(value, score))
        return self

    def set_label(self, label_type: str, value: str, score: float = 1.0) -> Sentence:
        """Replace every sentence-level label of ``label_type`` with this one."""
        self._labels[label_type] = [Label(value, score)]
        return self

    def remove_labels(self, label_type: str) -> None:
        self._labels.pop(label_type, None)
        for token in self.tokens:
            token.remove_label(label_type)

    def get_labels(self, label_type: str | None = None) -> list[Label]:
        """Sentence-level labels of ``label_type`` (all types if None), then token labels."""
        if label_type is None:
            result = [label for labels in self._labels.values() for label in labels]
            return result + [label for token in self.tokens for label in token.labels]
        if label_type in self._labels:
            return list(self._labels[label_type])
        return [t.get_label(label_type) for t in self.tokens if t.has_label(label_type)]

    def get_label(self, label_type: str | None = None, zero_tag_value: str = "O") -> Label:
        """The first of :meth:`get_labels` (Flair's ``get_label``: a classifier's predicted
        class is ``sentence.get_label("class").value``); ``zero_tag_value`` with score 0 when
        there is none, as for a token."""
        labels = self.get_labels(label_type)
        return labels[0] if labels else Label(zero_tag_value, 0.0)

    def has_label(self, label_type: str) -> bool:
        return bool(self.get_labels(label_type))

    @property
    def labels(self) -> list[Label]:
        return self.get_labels()

    @property
    def label_types(self) -> set[str]:
        types = set(self._labels)
        for token in self.tokens:
            types.update(token.label_types)
        return types

    def get_spans(self, tag_type: str) -> list[Span]:
        """Spans decoded from the BIO/BIOES tags of ``tag_type``; a span's score is its mean."""
        tags = [t.get_tag(tag_type) for t in self.tokens]
        spans = []
        for start, end, kind in decode_spans(tags):
            tokens = self.tokens[start:end]
            score = sum(t.get_label(tag_type).score for t in tokens) / len(tokens)
            spans.append(Span(tokens, kind, score, tag_type))
        return spans

    # -- embeddings -----------------------------------------------------------------------------
    def set_embedding(self, name: str, tensor: torch.Tensor) -> None:
        """Store a ``(len(self), dim)`` tensor computed by the embedding called ``name``."""
        self.embeddings[name] = tensor

    def token_embedding(self, index: int, names: Sequence[str] | None = None) -> torch.Tensor:
        import torch

        keys = list(names) if names is not None else sorted(self.embeddings)
        # Only per-token tensors (len, dim); document vectors live beside them as 1-D tensors.
        parts = [self.embeddings[k][index] for k in keys
                 if k in self.embeddings and self.embeddings[k].dim() == 2]
        return torch.cat(parts) if parts else torch.empty(0)

    @property
    def embedding(self) -> torch.Tensor:
        """The sentence-level embedding (set by document embeddings), empty if none."""
        import torch

        return self.embeddings.get("__document__", torch.empty(0))

    def clear_embeddings(self, names: Iterable[str] | None = None) -> None:
        """Forget stored embeddings (all, or those named), e.g. to free memory."""
        if names is None:
            self.embeddings.clear()
        else:
            for name in names:
                self.embeddings.pop(name, None)

    # -- text -----------------------------------------------------------------------------------
    def to_original_text(self) -> str:
        return "".join(t.text + (" " if t.whitespace_after else "") for t in self.tokens).strip()

    @property
    def text(self) -> str:
        return self.to_original_text()

    def to_plain_string(self) -> str:
        return " ".join(t.text for t in self.tokens)

    to_tokenized_string = to_plain_string  # Flair's other name for it

    def __getstate__(self) -> dict[str, object]:
        """Pickled without its neighbours: one sentence would otherwise take its whole corpus
        along, link by link, past the recursion limit on a long one."""
        return {name: getattr(self, name) for name in self.__slots__
                if name not in ("_previous", "_next", "__weakref__")}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._previous = self._next = None

    def previous_sentence(self) -> Sentence | None:
        """The sentence before this one in its corpus file (Flair's), None if unknown."""
        return self._previous

    def next_sentence(self) -> Sentence | None:
        return self._next

    def get_token(self, idx: int) -> Token | None:
        """The token at 1-based position ``idx`` (as ``Token.idx``), or None (as Flair)."""
        return self.tokens[idx - 1] if 1 <= idx <= len(self.tokens) else None

    def to_tagged_string(self, main_label: str | None = None) -> str:
        """The sentence with its labels, e.g. ``"I"/PRON "love"/VERB "Berlin"/PROPN``.

        Token tags are shown for ``main_label`` (every type if None, joined by ``|``); BIO tags
        are shown as decoded spans, and sentence labels follow the text.
        """
        parts = []
        for token in self.tokens:
            types = [main_label] if main_label else token.label_types
            tags = [token.get_tag(t) for t in types if token.has_label(t)]
            parts.append(f'"{token.text}"/{"|".join(tags)}' if tags else f'"{token.text}"')
        text = f'Sentence[{len(self)}]: "{self.to_original_text()}"'
        if any("/" in p for p in parts):
            text += " → [" + ", ".join(parts) + "]"
        sentence_labels = [
            f"{kind}: {label}"
            for kind, labels in self._labels.items()
            if main_label in (None, kind)
            for label in labels
        ]
        if sentence_labels:
            text += " → " + "; ".join(sentence_labels)
        return text

    # -- container ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.tokens)

    def __iter__(self) -> Iterator[Token]:
        return iter(self.tokens)

    def __getitem__(self, index: int) -> Token:
        return self.tokens[index]

    def __repr__(self) -> str:
        return self.to_tagged_string()

    __str__ = __repr__
