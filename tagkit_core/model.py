"""The Model interface every trainable model implements, and the evaluation Result."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Sequence

import attrs
import torch
from torch import nn

from tagkit_core.data import Sentence
from tagkit_core.gc_control import existing_objects_frozen
from tagkit_core.persistence import load_model, save_model
from tagkit_core.seeding import seeded_construction
from tagkit_core.storage import StorageMode, resolve_storage_mode

__all__ = ["Model", "Result"]


@attrs.define
class Result:
    """What ``Model.evaluate`` returns, named as in Flair.

    ``main_score`` drives model selection and annealing; ``scores`` holds every figure by name
    (``accuracy``, ``micro_f1``, ``macro_f1``, ``loss``...; the trainer writes each into a
    ``DEV_<NAME>`` column of loss.tsv); ``detailed_results`` is a printable per-class report.
    """

    main_score: float
    scores: dict[str, float] = attrs.field(factory=dict)
    detailed_results: str = ""
    classification_report: dict[str, dict[str, float]] = attrs.field(factory=dict)
    main_score_name: str = "main_score"

    @property
    def loss(self) -> float:
        return self.scores.get("loss", float("nan"))

    def __str__(self) -> str:
        return self.detailed_results or f"{self.main_score_name}: {self.main_score:.4f}"


class Model(nn.Module):
    """A trainable model: loss for a batch, predictions onto sentences, evaluation, safe files.

    Subclasses set ``registry_name`` and ``label_type``, implement the four abstract methods
    and ``get_config``/``from_config`` (constructor arguments as plain data, nested components
    as the objects themselves; used by model files, see :mod:`tagkit_core.persistence`).
    """

    #: What model files call this kind of component (persistence recognises models by it).
    component_kind: ClassVar[str] = "model"
    registry_name: ClassVar[str] = ""
    label_type: str = ""
    #: How the model was trained (plain data, see :mod:`tagkit_core.model_card`): set by the
    #: trainer and saved in the model file's header; None for a model no trainer has touched
    #: or loaded from a file without a card.
    model_card: dict[str, Any] | None = None
    #: ``ModelTrainer.train`` options this kind of model trains with unless the call gives
    #: them (a model-specific default, documented on the subclass).
    training_defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every component's initial weights come from its own seeded generator, so the
        # tutorial's order (build, then train(seed=...)) is reproducible: tagkit_core.seeding.
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = seeded_construction(cls.__dict__["__init__"])

    # -- abstract -------------------------------------------------------------------------------
    def forward_loss(self, sentences: Sequence[Sentence], storage: StorageMode | None = None
                     ) -> tuple[torch.Tensor, int]:
        """Return the summed loss over the batch and the number of items it sums over.

        :param storage: the run's storage mode, to pass to the embeddings
            (``self.embeddings(sentences, storage=storage)``); the trainer gives it.
        """
        raise NotImplementedError  # pragma: no cover

    def predict(self, sentences: Sentence | Sequence[Sentence], mini_batch_size: int = 32,
                **kwargs: Any) -> None:
        """Write predicted labels onto the sentences."""
        raise NotImplementedError  # pragma: no cover

    def evaluate(self, sentences: Sequence[Sentence], gold_label_type: str | None = None,
                 mini_batch_size: int = 32, **kwargs: Any) -> Result:
        """Predict on a copy of the labels and compare with the gold ones."""
        raise NotImplementedError  # pragma: no cover

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments: plain data, nested components (embeddings) as objects."""
        raise NotImplementedError  # pragma: no cover

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Model:
        """Rebuild from ``get_config()`` output whose nested components are already built.

        The config comes from a file that may be hostile: check every field (see
        :mod:`tagkit_core.config_fields`) and never open a path or URL it names.
        """
        return cls(**config)

    # -- shared behaviour -----------------------------------------------------------------------
    def storage_mode(self, mode: str | StorageMode | None) -> StorageMode:
        """The storage mode object for ``predict``/``evaluate``'s ``embedding_storage_mode``.

        Resolve it once per call and pass the object to the embeddings and to
        ``mode.after_batch``: this is all a model needs to get storage right.
        """
        return resolve_storage_mode(mode, self.device)

    @contextlib.contextmanager
    def predicting(self, total: int, verbose: bool = False) -> Iterator[Callable[[int], None]]:
        """The frame of a prediction loop: eval mode, no gradients, the objects that exist
        now left out of garbage-collector scans (:mod:`tagkit_core.gc_control`), and a
        progress bar when ``verbose``; the model's own mode comes back afterwards, also
        after an error. Yields ``advance(n)``, to call after each batch of ``n`` sentences.
        """
        was_training = self.training
        self.eval()
        progress = None
        if verbose:
            from tqdm import tqdm

            progress = tqdm(total=total, desc="predicting", unit="sentence")
        try:
            with torch.no_grad(), existing_objects_frozen():
                yield progress.update if progress is not None else (lambda n: None)
        finally:
            if progress is not None:
                progress.close()
            self.train(was_training)

    @staticmethod
    def batches(sentences: Sequence[Sentence], mini_batch_size: int) -> list[list[Sentence]]:
        """``sentences`` in consecutive batches of ``mini_batch_size`` (checked: a positive int)."""
        if isinstance(mini_batch_size, bool) or not isinstance(mini_batch_size, int) \
                or mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be a positive integer, got {mini_batch_size!r}")
        sentences = list(sentences)
        return [sentences[i:i + mini_batch_size] for i in range(0, len(sentences), mini_batch_size)]

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        return torch.device("cpu")

    def save(self, path: str | Path) -> Path:
        """Write a safe model file (safetensors + JSON); see :mod:`tagkit_core.persistence`."""
        return save_model(self, path)

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device | None = None, *,
             map_location: str | torch.device | None = None, verify: bool = True) -> Model:
        """Load a model file written by :meth:`save`; nothing is unpickled, no file it names
        is opened.

        :param device: by default ``"cuda"`` when available, else the CPU (as Flair does).
        :param map_location: an alias of ``device``.
        :param verify: check the file's SHA-256 checksum (the default).
        """
        return load_model(path, expected=None if cls is Model else cls, device=device,
                          map_location=map_location, verify=verify)
