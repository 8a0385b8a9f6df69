"""The product-rate probe times its candidates in interleaved rounds on one torch thread, so a
burst of load on a busy machine does not decide which kernel a process uses."""

from __future__ import annotations

import time

import pytest
import torch

from tagkit_core.product_rates import ROUNDS, fastest_seconds


@pytest.fixture
def two_torch_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_runs_are_timed_in_turn_on_one_thread_outside_autocast(two_torch_threads):
    calls = []

    def recording(name):
        return lambda: calls.append((name, torch.get_num_threads(),
                                     torch.is_autocast_enabled("cpu"), torch.is_grad_enabled()))

    with torch.autocast("cpu", dtype=torch.bfloat16):
        seconds = fastest_seconds({"a": recording("a"), "b": recording("b")}, rounds=3)
    assert set(seconds) == {"a", "b"} and all(s >= 0 for s in seconds.values())
    assert [name for name, *_ in calls] == ["a", "b"] * 4  # one untimed call each, 3 rounds
    assert {tuple(rest) for _, *rest in calls} == {(1, False, False)}
    assert torch.get_num_threads() == 2  # the caller's count again


def test_a_burst_of_load_does_not_decide(two_torch_threads):
    """The first half of the rounds run slow (as if the machine were busy): the fastest call
    of each run is still a quiet one, for both runs alike."""
    count = {"a": 0, "b": 0}

    def run(name, quiet):
        def call():
            count[name] += 1
            time.sleep(0.02 if count[name] <= ROUNDS // 2 else quiet)
        return call

    seconds = fastest_seconds({"a": run("a", 0.0), "b": run("b", 0.004)})
    assert seconds["a"] < 0.003 and 0.004 <= seconds["b"] < 0.015
    assert count == {"a": ROUNDS + 1, "b": ROUNDS + 1}


def test_the_callers_thread_count_comes_back_after_an_error(two_torch_threads):
    def broken():
        raise RuntimeError("no kernel here")

    with pytest.raises(RuntimeError, match="no kernel here"):
        fastest_seconds({"broken": broken})
    assert torch.get_num_threads() == 2
