"""Training windows split into groups of streams, one Python thread and one core each.

Why. A language-model step is a few hundred small recurrent matrix products, one per
character position, each of ``batch x hidden`` rows. Given two cores, torch splits every such
product across both, and at these sizes the split costs about as much as it saves: on a
two-core CPU a bare ``nn.LSTM`` ran 7 to 12% faster as two calls of half the batch each, each on
one core in its own thread, than as one call on two cores (docs/benchmarks.md). The streams of
a batch are independent until their gradients are summed, so the trainer can do the same:
``LanguageModelTrainer.train(batch_threads=k)`` cuts the ``mini_batch_size`` streams into ``k``
contiguous groups and runs each group's forward and backward in its own thread with one
intra-op thread (torch's kernels release the GIL; autograd on the CPU runs a backward in the
thread that calls it). Since training runs keep freed memory for reuse
(:mod:`tagkit_core.allocator`), the trainer with two groups ran level with one group on this
machine (2.25 to 2.44 against 2.19 to 2.50 times Flair's rate, docs/benchmarks.md); the bare
LSTM still gains from two groups.

What stays the same. The gradient is the whole batch's: each group's loss is its summed
cross-entropy over the whole window's character count, so the groups' gradients add up to the
gradient of the batch's mean loss (up to the order of floating-point sums). Each group
returns its gradients (``torch.autograd.grad``) instead of adding them to ``.grad`` itself,
and the calling thread adds them up in group order, so the sum never depends on which thread
finished first and a run is exactly repeatable for any ``batch_threads``.

What changes. Dropout masks: each group draws from a generator of its own
(:func:`~tagkit_core.dropout.masks_from`), seeded per window from the global
generator in the main thread, so a seed still fixes the run (and a checkpoint's generator
states still resume it exactly); a run with ``batch_threads=2`` is repeatable but draws other
masks than one with ``batch_threads=1``. The LSTM's own dropout between layers (``nlayers`` > 1)
would draw from the shared global generator in both threads, in no fixed order, so that
combination is refused.

Only training gains: embedding EWT test with ``FlairEmbeddings`` as two groups of sentences
in two threads (tried) took 1.3 to 1.4 times as long as one pass on both cores. An inference
step is a forward pass only, which torch spreads over two cores well, and each group's
staircase made twice the LSTM calls of half the width.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial
from typing import Any, Callable, Sequence, TypeVar

import torch
from torch import nn

from tagkit_core.dropout import masks_from
from tagkit_flair_embeddings.language_model import LanguageModel

__all__ = ["GroupedWindows", "check_batch_threads", "run_on_cores"]

Hidden = tuple[torch.Tensor, torch.Tensor]
T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
_in_pool = threading.local()


def _forget_pool_after_fork() -> None:
    """A forked child inherits the pool object but none of its threads (work queued there
    would wait forever), and perhaps a lock held by a thread it does not have."""
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _mark_pool_thread() -> None:
    _in_pool.active = True


def _workers(count: int) -> ThreadPoolExecutor:
    """The process's pool of at least ``count`` threads (kept: a thread per call would cost
    its start every window)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < count:
            if _pool is not None:
                _pool.shutdown(wait=False)  # its idle threads end; running tasks finish
            _pool = ThreadPoolExecutor(count, thread_name_prefix="tagkit-lm-group",
                                       initializer=_mark_pool_thread)
            _pool_size = count
        return _pool


def _one_core(task: Callable[[], T]) -> T:
    torch.set_num_threads(1)  # the pool thread's own setting, where torch keeps one per thread
    return task()


def run_on_cores(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Run ``tasks`` at the same time, the first in this thread and the others in pool
    threads, each with one torch intra-op thread; return their results in order. The caller's
    thread count comes back afterwards, and every task has ended when this returns or raises
    (the error of the first failed task in order). Called from a pool thread, the tasks run
    one after another, so nesting cannot wait on a busy pool."""
    if len(tasks) == 1 or getattr(_in_pool, "active", False):
        return [task() for task in tasks]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    futures = []
    try:
        futures = [_workers(len(tasks) - 1).submit(_one_core, task) for task in tasks[1:]]
        first = tasks[0]()
        return [first, *(future.result() for future in futures)]
    finally:
        wait(futures)
        torch.set_num_threads(before)


def check_batch_threads(model: LanguageModel, threads: Any, batch_size: int,
                        device: torch.device) -> int:
    """``threads`` as an int, or a ValueError saying which setting forbids it."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"batch_threads must be a positive integer, got {threads!r}")
    if threads == 1:
        return 1
    if device.type != "cpu":
        raise ValueError(f"batch_threads={threads} is for training on the CPU (the model is "
                         f"on {device}); use batch_threads=1")
    if threads > batch_size:
        raise ValueError(f"batch_threads={threads} is more than the {batch_size} streams "
                         "(mini_batch_size) it splits")
    if model.nlayers > 1 and model.dropout > 0:
        raise ValueError(f"batch_threads={threads} needs a one-layer LM or dropout=0: the "
                         "LSTM's dropout between layers draws from torch's shared generator, "
                         "in no fixed order across threads")
    return threads


class GroupedWindows:
    """Forward and backward of each window as ``threads`` groups of streams (module doc).

    The trainer's one way through a window: with one group (``batch_threads=1``, the
    default) it runs in the calling thread, the same computation with nothing beside it."""

    def __init__(self, model: LanguageModel, batch_size: int, threads: int,
                 low_precision: bool) -> None:
        self.model, self.low_precision = model, low_precision
        bounds = [batch_size * i // threads for i in range(threads + 1)]
        self.columns = [slice(start, stop) for start, stop in zip(bounds, bounds[1:])]
        self.hidden: list[Hidden] = [model.init_hidden(c.stop - c.start) for c in self.columns]
        self.parameters = [p for p in model.parameters() if p.requires_grad]

    def step(self, inputs: torch.Tensor, targets: torch.Tensor) -> float:
        """Accumulate the window's gradient (of the mean loss) into the model's parameters;
        return the window's summed cross-entropy."""
        seeds = torch.randint(0, 1 << 62, (len(self.columns),), dtype=torch.int64).tolist()
        return self._run(inputs, targets, seeds)

    def loss_sum(self, inputs: torch.Tensor, targets: torch.Tensor) -> float:
        """The window's summed cross-entropy, without gradients (evaluation; the model is in
        eval mode, so no dropout mask and no draw from the global generator)."""
        return self._run(inputs, targets, None)

    def _run(self, inputs: torch.Tensor, targets: torch.Tensor, seeds: list[int] | None
             ) -> float:
        count = targets.numel()
        parameters = self.parameters if seeds is not None else []
        results = run_on_cores([partial(self._group, g, inputs, targets, seeds, count,
                                        parameters) for g in range(len(self.columns))])
        for i, parameter in enumerate(parameters):  # summed in group order: repeatable
            for _, grads in results:
                if grads[i] is None:
                    continue
                if parameter.grad is None:
                    parameter.grad = grads[i]  # a fresh tensor of this group's own
                else:
                    parameter.grad.add_(grads[i])
        return sum(loss for loss, _ in results)  # in group order

    def _group(self, group: int, inputs: torch.Tensor, targets: torch.Tensor,
               seeds: list[int] | None, count: int, parameters: list[torch.Tensor]
               ) -> tuple[float, tuple[torch.Tensor | None, ...]]:
        columns, model = self.columns[group], self.model
        hidden = tuple(h.detach() for h in self.hidden[group])
        device = model.encoder.weight.device
        # Evaluation (no seeds) draws no mask: the model is in eval mode.
        generator = None if seeds is None else \
            torch.Generator(device=device).manual_seed(seeds[group])
        # Grad mode and autocast are per thread: a pool thread gets neither from the caller.
        with torch.set_grad_enabled(seeds is not None), masks_from(generator), \
                torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.low_precision):
            logits, _, new_hidden = model(inputs[:, columns], hidden)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                               targets[:, columns].reshape(-1),
                                               reduction="sum")
        grads: tuple[torch.Tensor | None, ...] = ()
        if seeds is not None:
            grads = torch.autograd.grad(loss / count, parameters, allow_unused=True)
        self.hidden[group] = new_hidden
        return loss.item(), grads
