"""Safe model files: a model file is data, and loading one can only build registered components.

A tagkit model file (``final-model.pt``, ``best-model.pt``; the suffix is kept for tutorial
compatibility) is a safetensors file: the state dict's tensors, the JSON header in the metadata
entry ``"tagkit"``, and its SHA-256 in ``"tagkit_sha256"``. The header (format version 2)::

    {"format": "tagkit-model", "format_version": 2,
     "model": {"tagkit_component": "model", "type": "sequence_tagger",
               "distribution": "tagkit-crf-tagger", "version": "0.1.0",
               "config": {"hidden_size": 256, "embeddings": {"tagkit_component": "embedding",
                                                             "type": "word", ...}, ...}},
     "model_card": {"card_version": 1, ...}}

The ``model_card`` section is optional (a training run writes it, see
:mod:`tagkit_core.model_card`); loading checks it and puts it on ``model.model_card``.

Loading, in order: the file is opened as safetensors (a pickle, a zip or a damaged file is named
for what it is); the header is parsed under size and depth limits and checked against the schema
(:mod:`tagkit_core.model_schema`); the model is built on the ``meta`` device (no memory) and its
state dict's names, shapes and dtypes are compared with the file's; the tensors are read and the
checksum verified; only then is the model built on the CPU, given the state dict (strictly) and
moved to the device. See docs/security.md for what loading may and may not do.

Format version 1 files (tagkit before this layout) are refused with a message saying so: they
have no checksum, and a file that can only be trusted after it is re-saved is not worth reading.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from tagkit_core.component_specs import ComponentBuildError, build_spec
from tagkit_core.component_specs import component_spec as _spec_of
from tagkit_core.files import atomic_write
from tagkit_core.model_schema import (
    CARD_KEY,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_KEY,
    ModelFileError,
    check_header,
    check_spec,
    parse_json,
)
from tagkit_core.tensor_files import (
    NOT_FOUND_HINT,
    check_shapes,
    independent_cpu_tensors,
    load_tensors,
    open_tensor_file,
    verify_digest,
    write_tensor_file,
)

__all__ = ["FORMAT_VERSION", "ModelFileError", "component_spec", "build_component",
           "save_model", "load_model", "read_header", "check_header", "build_model",
           "model_header", "state_tensors", "resolve_device", "atomic_write",
           "write_model_card"]

log = logging.getLogger("tagkit.persistence")


# -- writing ------------------------------------------------------------------------------------
def component_spec(kind: str, obj: Any) -> dict[str, Any]:
    """The JSON spec of ``obj`` (a component of ``kind``), nested components included."""
    if getattr(type(obj), "component_kind", None) != kind:
        raise TypeError(f"{type(obj).__name__} is not a {kind} component")
    return _spec_of(obj, "model" if kind == "model" else kind)


def model_header(model: Any) -> dict[str, Any]:
    """The header of ``model``'s file, with its ``model_card`` when it has one (checked here,
    so no file is written that loading would refuse)."""
    header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
              "model": component_spec("model", model)}
    card = getattr(model, "model_card", None)
    if card is not None:
        from tagkit_core.model_card import check_card

        try:
            header[CARD_KEY] = check_card(card, f"{type(model).__name__}.model_card", "card")
        except ModelFileError as error:
            raise TypeError(f"cannot save this model card: {error}") from None
    return header


def state_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as independent contiguous CPU tensors (safetensors refuses shared ones)."""
    return independent_cpu_tensors(module.state_dict())


def save_model(model: Any, path: str | Path) -> Path:
    """Write ``model`` to ``path`` atomically as a safe, self-describing, checksummed file."""
    path = Path(path)
    text = json.dumps(model_header(model), allow_nan=False)
    tensors = state_tensors(model)
    atomic_write(path, lambda tmp: write_tensor_file(tmp, HEADER_KEY, text, tensors))
    return path


def write_model_card(path: str | Path, card: dict[str, Any] | None) -> Path:
    """Replace the model card in the model file at ``path`` (None removes it), atomically.

    The file is checked and its checksum verified first, so a damaged file is never given a
    fresh checksum; the tensors are copied unchanged. This is how the trainer adds the test
    scores to final-model.pt and best-model.pt once it has them.
    """
    from tagkit_core.model_card import check_card

    opened, header = _open_model_file(path)
    tensors = load_tensors(opened)
    verify_digest(opened, HEADER_KEY, tensors)
    header.pop(CARD_KEY, None)
    if card is not None:
        header[CARD_KEY] = check_card(card, str(opened.path), "the new model card")
    text = json.dumps(header, allow_nan=False)
    atomic_write(opened.path, lambda tmp: write_tensor_file(tmp, HEADER_KEY, text, tensors))
    return opened.path


# -- reading ------------------------------------------------------------------------------------
def read_header(path: str | Path) -> dict[str, Any]:
    """The checked JSON header of a model file (nothing is built or read beyond it)."""
    return _open_model_file(path)[1]


def _open_model_file(path: str | Path):
    opened = open_tensor_file(path, "tagkit model file", missing=NOT_FOUND_HINT)
    source = str(opened.path)
    if HEADER_KEY not in opened.metadata:
        raise ModelFileError(f"{source} is a safetensors file without a tagkit header")
    header = parse_json(opened.metadata[HEADER_KEY], source, "the tagkit header")
    return opened, check_header(header, source)


def resolve_device(device: str | torch.device | None = None,
                   map_location: str | torch.device | None = None) -> torch.device:
    """``device`` (or its alias ``map_location``); by default the GPU when there is one."""
    chosen = device if device is not None else map_location
    if chosen is None:
        chosen = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(chosen)


def _meta_unsupported(error: BaseException) -> bool:
    cause = error.__cause__
    return isinstance(cause, NotImplementedError) or (
        isinstance(cause, RuntimeError) and "meta" in str(cause).lower())


def build_model(spec: dict[str, Any], shapes: Mapping[str, tuple[tuple[int, ...], str]],
                load_state: Callable[[], Mapping[str, torch.Tensor]], *, source: str,
                where: str = "model", device: str | torch.device = "cpu",
                expected: type | None = None) -> Any:
    """Build a checked model spec whose tensors are ``shapes``, guarding every allocation.

    The model is first built on the ``meta`` device and compared with ``shapes``; only on a
    match is ``load_state()`` called (reading and checking the tensors) and the model built for
    real, on the CPU, given that state strictly and moved to ``device``. A
    component whose constructor cannot run on ``meta`` (NotImplementedError, or a RuntimeError
    about meta tensors) is built on the CPU directly and compared there: the schema and the
    components' own checks still apply, but the allocation guard does not.
    """
    try:
        with torch.device("meta"):
            probe = build_spec(spec, source, where)
    except ComponentBuildError as error:
        if not _meta_unsupported(error):
            raise
        log.warning("%s: %s cannot be built on the meta device (%s); building it on the CPU "
                    "without the allocation guard", source, spec["type"], error.__cause__)
        probe = None
    if probe is not None:
        _check_expected(probe, expected, source)
        check_shapes(probe, shapes, f"{source}: {where}")
        del probe
    state = dict(load_state())  # read and checksummed before anything is allocated
    with torch.device("cpu"):
        model = build_spec(spec, source, where)
    _check_expected(model, expected, source)
    check_shapes(model, shapes, f"{source}: {where}")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ModelFileError(f"{source}: {where}: the tensors do not fit the model: {error}"
                             ) from None
    model.eval()
    return model.to(device)


def _check_expected(model: Any, expected: type | None, source: str) -> None:
    if expected is not None and not isinstance(model, expected):
        raise ModelFileError(f"{source} holds a {type(model).__name__}, not a "
                             f"{expected.__name__}")


def load_model(path: str | Path, expected: type | None = None,
               device: str | torch.device | None = None, *,
               map_location: str | torch.device | None = None, verify: bool = True) -> Any:
    """Load any tagkit model file, finding its classes through the registry.

    :param device: where the model goes; by default ``"cuda"`` when available, else the CPU.
    :param map_location: an alias of ``device`` (the name ``torch.load`` users know).
    :param verify: check the file's SHA-256 (about 0.1 s per 100 MB); ``False`` skips it.
    """
    opened, header = _open_model_file(path)
    source = str(opened.path)

    def state() -> dict[str, torch.Tensor]:
        tensors = load_tensors(opened)
        if verify:
            verify_digest(opened, HEADER_KEY, tensors)
        return tensors

    model = build_model(header["model"], opened.shapes, state, source=source,
                        device=resolve_device(device, map_location), expected=expected)
    model.model_card = header.get(CARD_KEY)  # None for files written without a card
    return model


def build_component(kind: str, spec: dict[str, Any], source: str = "<spec>") -> Any:
    """Check a spec written by :func:`component_spec` and build it (tensors not loaded)."""
    check_spec(spec, source, kind, kind=kind)
    return build_spec(spec, source, kind)
