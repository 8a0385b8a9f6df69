"""A restricted reader for ``torch.save`` files: tensors, plain containers and inert stubs only.

Why not ``torch.load(weights_only=True)``: PyTorch's own allow-list unpickler does not accept
pickle protocol 4 (its ``FRAME`` opcode), and Flair saves language models with
``pickle_protocol=4``. This module uses the standard library's ``pickle.Unpickler`` (every
protocol) with its two extension points closed down:

* ``find_class`` resolves only :data:`ALLOWED`: ``collections.OrderedDict``, ``bytes`` as
  protocol 2 writes them (``_codecs.encode(text, "latin1")``, checked), the tensor rebuild
  functions (replaced by this module's checked versions, which build a tensor on a storage of
  this file and nothing else), the storage type *names* (mapped to dtypes, never to torch's
  classes) and the caller's stubs (inert classes standing in for, e.g., Flair's Dictionary).
  Any other global (``os.system``, ``builtins.eval``, ``torch.nn.Linear``...) raises
  :class:`RefusedPickle` before anything is called, and no module is ever imported;
* ``persistent_load`` accepts only ``("storage", type, key, location, numel)`` records and
  gives back a storage filled from the file's own bytes (a zip member, or the legacy format's
  trailing data), its size bounded by the file's.

Both of torch's layouts are read: the zip archive (torch >= 1.6) and the legacy stream of
pickles (magic number, protocol, system info, the object, the storage keys, raw storages).
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path
from typing import Any, Callable

import torch

__all__ = ["RefusedPickle", "load_torch_file"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": torch.float32, "DoubleStorage": torch.float64,
           "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
           "LongStorage": torch.int64, "IntStorage": torch.int32, "ShortStorage": torch.int16,
           "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool}


class RefusedPickle(pickle.UnpicklingError):
    """The pickle asks for a global or a record this reader does not allow."""


class _StorageType:
    """A storage type name from the pickle: only its dtype is used."""

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any
                    ) -> torch.Tensor:
    """torch's ``_rebuild_tensor(_v2)``: a view of one of this file's storages (``set_``
    checks that it lies within the storage); requires_grad, hooks and metadata are ignored."""
    if not isinstance(storage, _Storage):
        raise RefusedPickle("a tensor must be built on one of the file's storages")
    if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and all(isinstance(n, int) and n >= 0 for n in (offset, *size, *stride))
            and len(size) == len(stride) <= 64):
        raise RefusedPickle("a tensor's offset, size and stride must be small tuples of ints")
    tensor = torch.empty(0, dtype=storage.dtype)
    return tensor.set_(storage.untyped, offset, torch.Size(size), stride)


def _rebuild_parameter(data: Any, requires_grad: Any, hooks: Any, *rest: Any) -> torch.Tensor:
    if not isinstance(data, torch.Tensor):
        raise RefusedPickle("a parameter must wrap a tensor")
    return data.detach()


class _Storage:
    """One storage of the file: a byte buffer (filled now or, in the legacy format, later)."""

    def __init__(self, dtype: torch.dtype, numel: int) -> None:
        self.dtype, self.numel = dtype, numel
        self.buffer = torch.zeros(numel * dtype.itemsize, dtype=torch.uint8)
        self.untyped = self.buffer.untyped_storage()

    def fill(self, data: bytes, where: str) -> None:
        if len(data) != self.buffer.numel():
            raise RefusedPickle(f"{where}: a storage holds {len(data)} bytes, its record "
                                f"says {self.buffer.numel()}")
        if data:
            self.buffer.copy_(torch.frombuffer(bytearray(data), dtype=torch.uint8))


def _encode_bytes(text: Any, encoding: Any = "utf-8") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for ``bytes``: text to bytes only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise RefusedPickle("_codecs.encode is allowed only for bytes (text, 'latin1')")
    return text.encode("latin-1")


ALLOWED: dict[tuple[str, str], Any] = {
    ("_codecs", "encode"): _encode_bytes,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(dtype) for name, dtype in _DTYPES.items()},
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, stubs: dict[str, type], storage: Callable[..., _Storage],
                 where: str) -> None:
        super().__init__(file, encoding="utf-8")
        self._stubs, self._storage, self._where = stubs, storage, where

    def find_class(self, module: str, name: str) -> Any:
        allowed = ALLOWED.get((module, name))
        if allowed is None:
            allowed = self._stubs.get(f"{module}.{name}")
        if allowed is None:
            raise RefusedPickle(f"{self._where}: the pickle asks for {module}.{name}, which is "
                                "not allowed (only tensors, plain containers and "
                                f"{', '.join(sorted(self._stubs)) or 'no other class'})")
        return allowed

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and isinstance(pid[4], int) and pid[4] >= 0
                and (len(pid) == 5 or pid[5] is None)):
            raise RefusedPickle(f"{self._where}: unsupported persistent record {pid!r:.100}")
        return self._storage(pid[2], pid[1].dtype, pid[4])


def _restricted_load(file: Any, stubs: dict[str, type], storage: Callable[..., _Storage],
                     where: str) -> Any:
    return _Unpickler(file, stubs, storage, where).load()


def _load_zip(path: Path, stubs: dict[str, type]) -> Any:
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise RefusedPickle(f"{path}: a torch zip file holds one <name>/data.pkl")
        prefix = pickles[0][: -len("data.pkl")]
        if prefix + "byteorder" in archive.namelist() and \
                archive.read(prefix + "byteorder").strip() != b"little":
            raise RefusedPickle(f"{path}: big-endian files are not supported")
        storages: dict[str, _Storage] = {}

        def storage(key: str, dtype: torch.dtype, numel: int) -> _Storage:
            if key not in storages:
                member = f"{prefix}data/{key}"
                try:
                    info = archive.getinfo(member)
                except KeyError:
                    raise RefusedPickle(f"{path}: no storage {member}") from None
                # torch stores members uncompressed: a compressed one could claim any size.
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
                    raise RefusedPickle(f"{path}: storage {key} is compressed or larger than "
                                        "the file")
                if info.file_size != numel * dtype.itemsize:
                    raise RefusedPickle(f"{path}: storage {key} holds {info.file_size} bytes, "
                                        f"its record says {numel * dtype.itemsize}")
                storages[key] = _Storage(dtype, numel)
                storages[key].fill(archive.read(member), str(path))
            return storages[key]

        if archive.getinfo(pickles[0]).file_size > 64 * size + (1 << 20):
            raise RefusedPickle(f"{path}: data.pkl claims far more bytes than the file has")
        with archive.open(pickles[0]) as handle:
            return _restricted_load(io.BytesIO(handle.read()), stubs, storage, str(path))


def _load_legacy(path: Path, stubs: dict[str, type]) -> Any:
    size = path.stat().st_size
    storages: dict[str, _Storage] = {}

    def storage(key: str, dtype: torch.dtype, numel: int) -> _Storage:
        if key not in storages:
            if numel * dtype.itemsize > size:
                raise RefusedPickle(f"{path}: a storage claims more bytes than the file has")
            storages[key] = _Storage(dtype, numel)
        return storages[key]

    def no_storage(*args: Any) -> Any:
        raise RefusedPickle(f"{path}: a storage record outside the object")

    with open(path, "rb") as handle:
        where = str(path)
        if _restricted_load(handle, {}, no_storage, where) != _LEGACY_MAGIC:
            raise RefusedPickle(f"{path}: not a torch file (no legacy magic number)")
        _restricted_load(handle, {}, no_storage, where)  # protocol version
        info = _restricted_load(handle, {}, no_storage, where)
        if not isinstance(info, dict) or info.get("little_endian") is not True:
            raise RefusedPickle(f"{path}: big-endian or unknown system info")
        result = _restricted_load(handle, stubs, storage, where)
        keys = _restricted_load(handle, {}, no_storage, where)
        if not isinstance(keys, list) or set(keys) != set(storages):
            raise RefusedPickle(f"{path}: the storage key list does not match the object")
        for key in keys:
            numel = int.from_bytes(handle.read(8), "little")
            target = storages[key]
            if numel != target.numel:
                raise RefusedPickle(f"{path}: storage {key} holds {numel} elements, its "
                                    f"record says {target.numel}")
            target.fill(handle.read(numel * target.dtype.itemsize), where)
    return result


def load_torch_file(path: str | Path, stubs: dict[str, type]) -> Any:
    """Read a ``torch.save`` file (zip or legacy) under the restrictions above.

    :param stubs: ``"module.Name"`` -> an inert class to stand in for that class.
    :raises RefusedPickle: on any global or record not allowed.
    """
    path = Path(path)
    if zipfile.is_zipfile(path):
        return _load_zip(path, stubs)
    return _load_legacy(path, stubs)
