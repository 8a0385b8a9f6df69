"""Prediction in parallel streams on the CPU: mini-batches shared out over Python threads, each
running torch with its share of the process's threads.

Why. torch parallelises inside each operation (intra-op threads). For a small transformer on
short texts that leaves cores idle: a fine-tuned MiniLM's products on a batch of 32 questions
take a few hundred microseconds, and split over two cores they finish little sooner (352 x 1536
x 384 in bfloat16 took 369 to 384 µs on one thread and 395 to 434 on two, on a 2-core Xeon with
AMX), while the Python between them (tokenizing, the model's module calls, writing labels) runs
on one core whatever the thread count. ``streams=2`` runs two batches at once instead, each in
its own thread with one torch thread: torch's kernels release the GIL, so one stream's products
run while the other's Python does. On that machine MiniLM's bfloat16 prediction of the 500
TREC-6 test questions went from about 1,500 to about 2,000 questions per second on two cores
(docs/benchmarks.md, issue 18, section V). Where a second thread does speed up the products,
streams gain less or nothing (float32 10 to 17%, int8 nothing, on that Xeon): measure before
choosing.

What the caller guarantees: ``work(batch)`` may run in two threads at once on the same model.
It writes only to its own batch's sentences, and nothing it calls swaps attributes of the model
for the duration of a call (tagkit's text classifier with its transformer and word embeddings
qualifies: see :mod:`tagkit_transformers.lean_forward`). What the caller's thread set up for
itself does not carry over to new threads in torch (autocast, the gradient mode), so
:func:`map_batches` sets the gradient and inference mode of the calling thread in each stream,
and enters ``thread_context()`` there, the caller's autocast for instance.

While streams run, Python's thread switch interval is 0.5 ms (:data:`SWITCH_INTERVAL`), and the
caller's comes back afterwards. A stream that wants the GIL back after a kernel waits until the
other stream's Python gives it up, which Python forces only after the interval, 5 ms by default:
many kernels' worth here. MiniLM's bfloat16 streams on two cores predicted 2 to 4% more per
second with 0.5 ms; 0.1 ms gained nothing more.

Results do not depend on the streams: each batch runs whole on one thread, so with one torch
thread per stream a batch's result is what ``streams=1`` with ``torch.set_num_threads(1)``
gives, and results come back in batch order, so sums over them run in a fixed order. An error
in any stream, or Ctrl-C in the caller, stops the streams after their current batch and is
raised in the caller once every stream has ended (so whatever the caller swapped on the model
for the call is put back only after the last batch has run).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Callable, ContextManager, Iterator, Sequence, TypeVar

import torch

__all__ = ["SWITCH_INTERVAL", "check_streams", "map_batches"]

#: Python's thread switch interval while streams run, in seconds (see the module doc).
SWITCH_INTERVAL = 0.0005

Batch = TypeVar("Batch")
Result = TypeVar("Result")


def check_streams(streams: object, device: torch.device) -> int:
    """``streams`` as a positive int; more than one only on the CPU."""
    if isinstance(streams, bool) or not isinstance(streams, int) or streams < 1:
        raise ValueError(f"streams must be a positive integer, got {streams!r}")
    if streams > 1 and device.type != "cpu":
        raise ValueError(f"streams={streams}: parallel prediction streams run on the CPU; the "
                         f"model is on {device}, which runs one stream (streams=1)")
    return streams


def map_batches(work: Callable[[Batch], Result], batches: Sequence[Batch], streams: int = 1,
                thread_context: Callable[[], ContextManager[object]] = contextlib.nullcontext
                ) -> Iterator[Result]:
    """``work(batch)`` for each batch, yielded in batch order, in ``streams`` threads (see the
    module doc). The streams share out torch's threads: there are no more streams than
    ``torch.get_num_threads()`` (so a process limited to one thread stays on one) or batches,
    each gets ``torch.get_num_threads() // streams`` threads, and the caller's count is set
    again when the streams end. ``thread_context()`` is entered around the work in whichever
    thread runs it, the caller's too when there is one stream."""
    streams = min(streams, len(batches), torch.get_num_threads())
    if streams <= 1:
        with thread_context():
            for batch in batches:
                yield work(batch)
        return
    yield from _Streams(work, batches, streams, thread_context).results()


class _Streams:
    """The threads of one :func:`map_batches` call and what they hand back."""

    def __init__(self, work: Callable, batches: Sequence, streams: int,
                 thread_context: Callable[[], ContextManager[object]]) -> None:
        self.work, self.batches, self.thread_context = work, batches, thread_context
        self.caller_threads = torch.get_num_threads()
        self.threads_each = max(1, self.caller_threads // streams)
        self.grad = torch.is_grad_enabled()
        self.inference = torch.is_inference_mode_enabled()
        self.done: dict[int, object] = {}  # batch index -> its result
        self.errors: list[BaseException] = []
        self.taken = 0  # batches handed out
        self.stop = False
        self.changed = threading.Condition()
        self.threads = [threading.Thread(target=self._stream, name=f"tagkit-stream-{n}",
                                         daemon=True) for n in range(streams)]

    def _next(self) -> int | None:
        with self.changed:
            if self.stop or self.taken == len(self.batches):
                return None
            self.taken += 1
            return self.taken - 1

    def _stream(self) -> None:
        try:
            torch.set_num_threads(self.threads_each)
            mode = (torch.inference_mode() if self.inference
                    else torch.set_grad_enabled(self.grad))
            with mode, self.thread_context():
                while (index := self._next()) is not None:
                    result = self.work(self.batches[index])
                    with self.changed:
                        self.done[index] = result
                        self.changed.notify_all()
        except BaseException as error:  # handed to the caller, which raises it
            with self.changed:
                self.errors.append(error)
                self.stop = True
                self.changed.notify_all()

    def results(self) -> Iterator[object]:
        caller_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(caller_interval, SWITCH_INTERVAL))
        try:
            for thread in self.threads:
                thread.start()
            for index in range(len(self.batches)):
                with self.changed:
                    while index not in self.done and not self.errors:
                        self.changed.wait()
                    if self.errors:
                        raise self.errors[0]
                    result = self.done.pop(index)
                yield result
        finally:
            with self.changed:
                self.stop = True
            for thread in self.threads:
                thread.join()
            torch.set_num_threads(self.caller_threads)
            sys.setswitchinterval(caller_interval)
