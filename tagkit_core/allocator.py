"""Keep freed memory in the process for reuse while training or predicting (glibc's malloc).

Why. A training step allocates the same large buffers every time: activations, their
gradients, oneDNN's LSTM workspaces. glibc's malloc serves allocations above its mmap threshold
(adjusted as the process runs, at most 32 MB) with a fresh ``mmap`` and unmaps them on free, and
it hands the free top of its heap back to the kernel above a trim threshold. So every step
writes to brand-new pages, and the kernel faults in and zeroes each 4 KB page again. Measured on
one character-LM training step (bfloat16, 16 streams of 250 characters, one thread): 8,000 to
9,000 page faults and 83 ms per step; with freed memory kept (both thresholds raised), no
faults and 64 ms. The LM benchmark's whole training call ran 1.2x faster
(docs/benchmarks.md). PyTorch has no caching allocator on the CPU; its performance guide
suggests preloading jemalloc or tcmalloc, which a ``pip install`` cannot arrange. Two
``mallopt`` calls give the process the same reuse.

The cost: freed memory stays in the process (up to :data:`TRIM_THRESHOLD` at the heap's top),
so the resident size stays near its peak between steps instead of falling; the LM benchmark's
peak resident size went from 458 to 516 MB. When the run ends, :func:`freed_memory_kept`
hands the free memory back to the kernel (``malloc_trim``), so a process that goes on after
training (a notebook, a server that trained a model) does not keep the run's peak.

What it touches: a process-wide setting of the C library, made once, when a training run
starts (``ModelTrainer.train``, ``LanguageModelTrainer.train``) or a text classifier predicts
(``TextClassifier.predict``: int8 prediction ran 11 to 18% faster), all through
:func:`freed_memory_kept`, and never undone (setting the
threshold ends glibc's own adjustment of it, which cannot be turned back on). Left alone:

* any other C library (musl, macOS, Windows): nothing to set;
* a process whose allocator is preloaded (``LD_PRELOAD`` naming a malloc: jemalloc, tcmalloc,
  mimalloc), or whose environment already tunes glibc's malloc (``MALLOC_MMAP_THRESHOLD_``,
  ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``, ``glibc.malloc.*`` in ``GLIBC_TUNABLES``):
  the user's choice stands;
* ``TAGKIT_KEEP_FREED_MEMORY=0`` (or ``false``, ``no``, ``off``): the opt-out.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import threading
from typing import Iterator

__all__ = ["freed_memory_kept", "keep_freed_memory", "release_freed_memory", "MMAP_THRESHOLD",
           "TRIM_THRESHOLD", "OPT_OUT_VARIABLE"]

log = logging.getLogger("tagkit.allocator")

OPT_OUT_VARIABLE = "TAGKIT_KEEP_FREED_MEMORY"
# Allocations up to 1 GiB come from the heap and go back to it when freed. A one-LM-step
# workspace passed 32 MB (glibc's highest own threshold), so that setting left the faults.
MMAP_THRESHOLD = 1 << 30
TRIM_THRESHOLD = 1 << 30
# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")

_lock = threading.Lock()
_decided: bool | None = None  # None: not asked yet in this process
_depth = 0  # freed_memory_kept blocks open (evaluate inside train: the outer one releases)


def _reason_to_leave_alone() -> str | None:
    """Why the process's allocator is not ours to tune, or None."""
    if os.environ.get(OPT_OUT_VARIABLE, "").strip().lower() in ("0", "false", "no", "off"):
        return f"{OPT_OUT_VARIABLE}={os.environ[OPT_OUT_VARIABLE]}"
    if "malloc" in os.environ.get("LD_PRELOAD", "").lower():
        return "an allocator is preloaded (LD_PRELOAD)"
    tuned = [name for name in _USER_SETTINGS if name in os.environ]
    if "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", ""):
        tuned.append("GLIBC_TUNABLES")
    if tuned:
        return f"the environment tunes malloc already ({', '.join(tuned)})"
    return None


def _glibc() -> ctypes.CDLL | None:
    """The process's C library, when it is glibc (the only one with these settings)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded into this process
    except OSError:
        return None
    if not (hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt")):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse (the module doc says why and when it
    does not). Returns whether this process's malloc keeps it; the first call decides and
    later calls return the same answer."""
    global _decided
    with _lock:
        if _decided is not None:
            return _decided
        reason = _reason_to_leave_alone()
        libc = None if reason else _glibc()
        if reason is None and libc is None:
            reason = "the C library is not glibc"
        if libc is not None:
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            # The mmap threshold first: if glibc refuses it (an older one caps it), the trim
            # threshold stays as it was too and nothing has changed.
            if not libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD):
                reason = "glibc refused the mmap threshold"
            elif not libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD):
                reason = "glibc refused the trim threshold"
        _decided = reason is None
        if _decided:
            log.info("keeping freed memory for reuse (glibc malloc: mmap and "
                     "trim thresholds %d MiB); %s=0 leaves malloc as it is",
                     MMAP_THRESHOLD >> 20, OPT_OUT_VARIABLE)
        else:
            log.debug("malloc left as it is: %s", reason)
        return _decided


def release_freed_memory() -> bool:
    """Hand the free memory a kept-memory process holds back to the kernel (glibc's
    ``malloc_trim(0)``: the heap's free top, and the free pages inside it). Nothing to do, and
    False, where :func:`keep_freed_memory` changed nothing."""
    if not _decided:
        return False
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))


@contextlib.contextmanager
def freed_memory_kept() -> Iterator[bool]:
    """Keep freed memory for reuse inside the block (:func:`keep_freed_memory`; yields whether
    it is kept) and hand it back to the kernel when the outermost block ends, also after an
    error or Ctrl-C. The thresholds stay set: the next run reuses memory again at once."""
    global _depth
    kept = keep_freed_memory()
    with _lock:
        _depth += 1
    try:
        yield kept
    finally:
        with _lock:
            _depth -= 1
            outermost = _depth == 0
        if outermost:
            release_freed_memory()
