"""Prediction streams: batches run at once in several threads, results in batch order, each
stream with the caller's modes and its share of torch's threads, errors and early stops raised
in the caller only after every stream has ended."""

from __future__ import annotations

import random
import threading
import time

import pytest
import torch

from tagkit_core.prediction_streams import check_streams, map_batches


def stream_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("tagkit-stream-")]


@pytest.fixture
def torch_threads():
    """``torch_threads(n)`` sets torch's thread count for the test; put back after it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.fixture
def two_torch_threads(torch_threads):
    torch_threads(2)


@pytest.mark.parametrize("streams", [1, 2, 3, 8])
def test_results_come_back_in_batch_order(streams, torch_threads):
    torch_threads(4)
    shuffle = random.Random(streams)
    delays = [shuffle.random() * 0.01 for _ in range(12)]  # batches finish out of order

    def work(index: int) -> int:
        time.sleep(delays[index])
        return index * index

    names = set()
    results = list(map_batches(lambda i: names.add(threading.current_thread().name)
                               or work(i), list(range(12)), streams))
    assert results == [i * i for i in range(12)]
    assert len(names) <= min(streams, 4)  # never more streams than torch threads
    assert not stream_threads()


def test_there_are_no_more_streams_than_torch_threads(torch_threads):
    torch_threads(1)  # a process limited to one thread stays on one
    names = {name for name in map_batches(lambda i: threading.current_thread().name,
                                           list(range(6)), streams=4)}
    assert names == {threading.main_thread().name}
    torch_threads(3)
    seen = list(map_batches(lambda i: torch.get_num_threads(), list(range(6)), streams=2))
    assert seen == [1] * 6  # 3 // 2 each
    assert torch.get_num_threads() == 3


def test_streams_really_run_at_once(two_torch_threads):
    """Two batches meet at a barrier: with one stream the second never arrives."""
    meeting = threading.Barrier(2, timeout=5)

    def work(index: int) -> str:
        meeting.wait()
        return threading.current_thread().name

    names = list(map_batches(work, [0, 1], streams=2))
    assert sorted(names) == ["tagkit-stream-0", "tagkit-stream-1"]
    meeting.reset()
    with pytest.raises(threading.BrokenBarrierError):
        list(map_batches(lambda i: meeting.wait(timeout=0.2), [0, 1], streams=1))


def test_each_stream_gets_the_callers_modes_its_threads_and_the_thread_context(
        two_torch_threads):
    seen = []

    def work(index: int) -> None:
        seen.append((torch.get_num_threads(), torch.is_grad_enabled(),
                     torch.is_inference_mode_enabled(), torch.is_autocast_enabled("cpu"),
                     threading.current_thread() is not threading.main_thread()))

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16)

    with torch.no_grad():
        list(map_batches(work, list(range(6)), 2, autocast))
    assert seen == [(1, False, False, True, True)] * 6
    assert torch.get_num_threads() == 2  # the caller's count, set again
    assert not torch.is_autocast_enabled("cpu")  # the caller's own thread: untouched
    seen.clear()
    with torch.inference_mode():
        list(map_batches(work, list(range(4)), 2))
    assert seen == [(1, False, True, False, True)] * 4
    seen.clear()
    list(map_batches(work, list(range(3)), 1, autocast))  # one stream: the caller's thread
    assert seen == [(2, True, False, True, False)] * 3


def test_streams_switch_threads_more_often_while_they_run(two_torch_threads):
    import sys

    from tagkit_core.prediction_streams import SWITCH_INTERVAL

    before = sys.getswitchinterval()
    seen = list(map_batches(lambda i: sys.getswitchinterval(), [0, 1, 2], 2))
    assert seen == [pytest.approx(SWITCH_INTERVAL)] * 3
    assert sys.getswitchinterval() == before
    with pytest.raises(ZeroDivisionError):
        list(map_batches(lambda i: 1 / 0, [0, 1], 2))
    assert sys.getswitchinterval() == before


def test_an_error_in_a_stream_is_raised_in_the_caller_after_every_stream_ended(
        two_torch_threads):
    started = []

    def work(index: int) -> int:
        started.append(index)
        if index == 3:
            raise KeyError("batch 3 is broken")
        time.sleep(0.01)
        return index

    got = []
    with pytest.raises(KeyError, match="batch 3 is broken"):
        for result in map_batches(work, list(range(40)), 2):
            got.append(result)
    assert not stream_threads()  # joined before the error reached the caller
    assert got == list(range(len(got))) and len(got) <= 3
    assert len(started) < 40  # the streams stopped taking batches
    assert torch.get_num_threads() == 2


def test_a_caller_that_stops_early_ends_the_streams(two_torch_threads):
    ran = []

    def work(index: int) -> int:
        ran.append(index)
        time.sleep(0.01)
        return index

    results = map_batches(work, list(range(50)), 2)
    assert [next(results), next(results)] == [0, 1]
    results.close()  # a caller's break, or Ctrl-C in its loop
    assert not stream_threads()
    assert len(ran) < 50
    assert torch.get_num_threads() == 2


def test_ctrl_c_during_prediction_ends_every_stream_first(two_torch_threads):
    """SIGINT (as from Ctrl-C) arrives while the caller waits for a batch: KeyboardInterrupt
    reaches the caller once the streams have finished their current batches."""
    import signal

    finished = []

    def work(index: int) -> int:
        if index == 2:
            signal.raise_signal(signal.SIGINT)
        time.sleep(0.02)
        finished.append(index)
        return index

    with pytest.raises(KeyboardInterrupt):
        list(map_batches(work, list(range(60)), 2))
    done = len(finished)
    assert not stream_threads()  # every stream ended before the caller saw the interrupt
    time.sleep(0.1)
    assert len(finished) == done < 60  # and none goes on afterwards
    assert torch.get_num_threads() == 2


def test_an_error_entering_the_thread_context_is_raised_too(two_torch_threads):
    def broken():
        raise RuntimeError("no autocast here")

    with pytest.raises(RuntimeError, match="no autocast here"):
        list(map_batches(lambda i: i, [0, 1, 2], 2, broken))
    assert not stream_threads()


def test_check_streams():
    cpu = torch.device("cpu")
    assert check_streams(1, cpu) == 1 and check_streams(4, cpu) == 4
    for bad in (0, -1, 1.5, True, "2", None):
        with pytest.raises(ValueError, match="streams must be a positive integer"):
            check_streams(bad, cpu)
    with pytest.raises(ValueError, match="run on the CPU; the model is on cuda"):
        check_streams(2, torch.device("cuda"))
    assert check_streams(1, torch.device("cuda")) == 1
