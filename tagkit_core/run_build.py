"""Build a training run from a resolved config (:func:`tagkit_core.run_config.resolve_config`).

Every component comes from the registry by the name the config gives: the core imports no
plugin. A constructor that refuses its arguments (a file that is not there, a value out of
range the annotation could not express) is a :class:`RunConfigError` naming the section, so
``tagkit train`` still reports one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from tagkit_core.run_config import RunConfigError, model_injections
from tagkit_core.run_config_checks import key_path
from tagkit_core.toml_writer import dumps

if TYPE_CHECKING:  # pragma: no cover
    from tagkit_core.corpus import Corpus
    from tagkit_core.registry import Registry
    from tagkit_core.trainer import ModelTrainer

__all__ = ["build_corpus", "build_embeddings", "build_model", "build_trainer",
           "trainer_options", "save_resolved_config", "CONFIG_NAME"]

CONFIG_NAME = "config.toml"


def _args(spec: dict[str, Any], skip: Sequence[str] = ()) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "type" and k not in skip}


def _construct(cls: Any, kwargs: dict[str, Any], kind: str, spec: dict[str, Any],
               path: Sequence[str | int]) -> Any:
    try:
        return cls(**kwargs)
    except KeyboardInterrupt:
        raise
    except Exception as error:
        where = key_path(*path)
        text = " ".join(str(error).split()) or type(error).__name__
        raise RunConfigError(where, f"{where}: the {kind} {spec['type']!r} could not be "
                                    f"made: {type(error).__name__}: {text}") from error


def _registry(registry: Registry | None) -> Registry:
    from tagkit_core.registry import get_registry

    return registry or get_registry()


def build_corpus(resolved: dict[str, Any], registry: Registry | None = None) -> Corpus:
    """The ``[corpus]`` dataset, downsampled when the config says so."""
    spec = resolved["corpus"]
    cls = _registry(registry).resolve("dataset", spec["type"])
    corpus = _construct(cls, _args(spec, ("downsample",)), "dataset", spec, ["corpus"])
    if spec.get("downsample") is not None and spec["downsample"] < 1.0:
        corpus.downsample(spec["downsample"])
    return corpus


def build_embeddings(spec: dict[str, Any], path: Sequence[str | int],
                     registry: Registry | None = None) -> Any:
    """One embedding, its nested embedding tables built first."""
    registry = _registry(registry)
    kwargs = {}
    for key, value in _args(spec).items():
        if isinstance(value, dict) and "type" in value:
            value = build_embeddings(value, [*path, key], registry)
        elif isinstance(value, list) and value and \
                all(isinstance(v, dict) and "type" in v for v in value):
            value = [build_embeddings(v, [*path, key, i], registry) for i, v in enumerate(value)]
        kwargs[key] = value
    cls = registry.resolve("embedding", spec["type"])
    return _construct(cls, kwargs, "embedding", spec, path)


def build_model(resolved: dict[str, Any], corpus: Corpus, registry: Registry | None = None
                ) -> Any:
    """The ``[model]`` with its embeddings (stacked when there are several) and its tag or
    label dictionary made from ``corpus``."""
    registry = _registry(registry)
    spec = resolved["model"]
    cls = registry.resolve("model", spec["type"])
    kwargs = _args(spec)
    for param, what in model_injections(cls).items():
        if what == "embeddings":
            built = [build_embeddings(e, ["embeddings", i], registry)
                     for i, e in enumerate(resolved["embeddings"])]
            if len(built) == 1:
                kwargs[param] = built[0]
            else:
                from tagkit_core.embeddings import StackedEmbeddings

                kwargs[param] = StackedEmbeddings(embeddings=built)
        else:
            kwargs[param] = _dictionary(corpus, what, spec)
    return _construct(cls, kwargs, "model", spec, ["model"])


def _dictionary(corpus: Corpus, what: str, spec: dict[str, Any]) -> Any:
    key = "tag_type" if what == "tag_dictionary" else "label_type"
    try:
        if what == "tag_dictionary":
            return corpus.make_tag_dictionary(tag_type=spec.get("tag_type"))
        return corpus.make_label_dictionary(label_type=spec.get("label_type"))
    except ValueError as error:
        raise RunConfigError(f"model.{key}", f"model.{key} = {spec.get(key)!r}: "
                             f"{' '.join(str(error).split())}") from None


def trainer_options(resolved: dict[str, Any]) -> tuple[Path, type, dict[str, Any]]:
    """``(base_path, optimizer class, ModelTrainer.train options)`` of the ``[trainer]``."""
    import torch

    options = dict(resolved["trainer"])
    base_path = Path(options.pop("base_path"))
    optimizer = getattr(torch.optim, options.pop("optimizer"))
    return base_path, optimizer, options


def build_trainer(resolved: dict[str, Any], registry: Registry | None = None
                  ) -> tuple[ModelTrainer, Path, dict[str, Any]]:
    """Corpus, model and trainer, seeded with ``trainer.seed`` so the initial weights repeat."""
    from tagkit_core.seeding import set_seed
    from tagkit_core.trainer import ModelTrainer

    base_path, optimizer, options = trainer_options(resolved)
    corpus = build_corpus(resolved, registry)
    set_seed(options["seed"])
    model = build_model(resolved, corpus, registry)
    return ModelTrainer(model, corpus, optimizer=optimizer), base_path, options


def save_resolved_config(resolved: dict[str, Any], folder: str | Path) -> Path:
    """Write the resolved config as ``folder/config.toml``, readable by ``tagkit train``."""
    from tagkit_core import __version__
    from tagkit_core.files import atomic_write

    path = Path(folder) / CONFIG_NAME
    header = (f"The resolved config of this run (tagkit-core {__version__}): every default "
              f"filled in.\nRun it again with: tagkit train {path}")
    text = dumps(resolved, header=header)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
