"""batch_threads: the LM trainer's windows as groups of streams in threads (lm_threads.py).

What must hold: the gradient is the whole batch's; a seed fixes the run (two groups' gradients
add up the same whichever thread ends first); a checkpoint resumes it exactly; the thread count
comes back; settings it cannot honour are refused with a reason."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import torch
from flair_lm_helpers import tiny_dictionary, tiny_lm, write_corpus
from safetensors.torch import load_file

from tagkit_core.dropout import IntegerMaskDropout, masks_from
from tagkit_flair_embeddings import LanguageModelTrainer, TextCorpus
from tagkit_flair_embeddings.lm_threads import GroupedWindows, run_on_cores


def _window(lm, length=12, batch=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    data = torch.randint(0, len(lm.dictionary), (length + 1, batch), generator=generator)
    return data[:-1], data[1:]


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_the_groups_gradient_is_the_whole_batchs(precision):
    lm = tiny_lm(hidden=16).train()
    lm.drop.p, lm.drop.dropped_levels = 0.0, 0  # no masks: both ways compute the same thing
    inputs, targets = _window(lm)
    low = precision == "bfloat16"
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):
        logits, _, _ = lm(inputs, lm.init_hidden(6))
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                                 targets.reshape(-1))
    loss.backward()
    whole = {name: p.grad.clone() for name, p in lm.named_parameters()}
    lm.zero_grad(set_to_none=True)
    summed = GroupedWindows(lm, 6, 2, low).step(inputs, targets)
    tolerance = 2e-2 if low else 1e-5
    assert summed == pytest.approx(loss.item() * targets.numel(), rel=tolerance)
    for name, p in lm.named_parameters():
        assert torch.allclose(p.grad, whole[name], rtol=tolerance, atol=tolerance * 1e-2), name


def test_the_hidden_state_is_carried_per_group_and_the_thread_count_comes_back():
    lm = tiny_lm(hidden=16).train()
    before = torch.get_num_threads()
    grouped = GroupedWindows(lm, 5, 2, False)
    assert [(c.start, c.stop) for c in grouped.columns] == [(0, 2), (2, 5)]
    grouped.step(*_window(lm, batch=5))
    assert [h[0].shape[1] for h in grouped.hidden] == [2, 3]
    assert all(h[0].abs().sum() > 0 for h in grouped.hidden)
    assert torch.get_num_threads() == before


def test_run_on_cores_gives_results_in_order_one_intra_op_thread_each_and_errors():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _check_run_on_cores()
    finally:
        torch.set_num_threads(before)


def _check_run_on_cores():
    seen = run_on_cores([lambda i=i: (i, torch.get_num_threads()) for i in range(3)])
    assert seen == [(0, 1), (1, 1), (2, 1)]
    assert torch.get_num_threads() == 2
    # Nested in a pool thread: run one after another there (no wait on a busy pool).
    nested = run_on_cores([lambda: 0, lambda: run_on_cores([lambda: 1, lambda: 2])])
    assert nested == [0, [1, 2]]

    def fails():
        raise RuntimeError("group failed")

    with pytest.raises(RuntimeError, match="group failed"):
        run_on_cores([lambda: 0, fails])
    with pytest.raises(RuntimeError, match="group failed"):
        run_on_cores([fails, lambda: 0])
    assert torch.get_num_threads() == 2


def _train(tmp_path, name, threads, epochs=2, resume_from=None):
    corpus = TextCorpus(tmp_path / "corpus", tiny_dictionary())
    if resume_from is not None:
        trainer = LanguageModelTrainer.load_checkpoint(resume_from, corpus)
    else:
        trainer = LanguageModelTrainer(tiny_lm(hidden=16, seed=5), corpus)
    result = trainer.train(tmp_path / name, sequence_length=10, mini_batch_size=4,
                           learning_rate=5.0, max_epochs=epochs, seed=7,
                           batch_threads=threads)
    history = [{k: v for k, v in row.items() if k != "chars_per_second"}
               for row in result["history"]]
    return history, result["test_perplexity"], load_file(tmp_path / name / "best-lm.pt")


def test_a_seed_fixes_a_threaded_run_and_a_checkpoint_resumes_it(tmp_path):
    write_corpus(tmp_path / "corpus", splits=2, repeat=3)
    first = _train(tmp_path, "first", 2)
    second = _train(tmp_path, "second", 2)
    assert first[:2] == second[:2]
    assert all(torch.equal(first[2][k], second[2][k]) for k in first[2])
    # Other masks than one group's: a different (equally seeded) run.
    assert _train(tmp_path, "one", 1)[0] != first[0]
    # Three groups: the gradients are summed in group order whichever thread ends first.
    three = [_train(tmp_path, f"three-{i}", 3, epochs=1) for i in range(3)]
    assert three[0][:2] == three[1][:2] == three[2][:2]
    assert all(torch.equal(t[2][k], three[0][2][k]) for t in three[1:] for k in three[0][2])
    # One epoch, then resumed from its checkpoint to the second: the two-epoch run exactly.
    _train(tmp_path, "half", 2, epochs=1)
    resumed = _train(tmp_path, "half", 2, resume_from=tmp_path / "half" / "checkpoint.pt")
    assert resumed[:2] == first[:2]
    assert all(torch.equal(resumed[2][k], first[2][k]) for k in first[2])


def test_settings_it_cannot_honour_are_refused(tmp_path):
    write_corpus(tmp_path / "corpus")
    corpus = TextCorpus(tmp_path / "corpus", tiny_dictionary())
    trainer = LanguageModelTrainer(tiny_lm(), corpus)
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="batch_threads must be a positive integer"):
            trainer.train(tmp_path / "run", mini_batch_size=4, batch_threads=bad)
    with pytest.raises(ValueError, match="more than the 4 streams"):
        trainer.train(tmp_path / "run", mini_batch_size=4, batch_threads=5)
    deep = LanguageModelTrainer(tiny_lm(nlayers=2), corpus)
    with pytest.raises(ValueError, match="between layers"):
        deep.train(tmp_path / "run", mini_batch_size=4, batch_threads=2)


def test_evaluation_in_groups_equals_one_pass(tmp_path):
    write_corpus(tmp_path / "corpus")
    lm = tiny_lm(hidden=16)
    trainer = LanguageModelTrainer(lm, TextCorpus(tmp_path / "corpus", lm.dictionary))
    ids = torch.randint(0, len(lm.dictionary), (400,),
                        generator=torch.Generator().manual_seed(2))
    one = trainer.evaluate(ids, 8, 15)
    draws_before = torch.random.get_rng_state()
    grouped = trainer.evaluate(ids, 8, 15, batch_threads=2)
    assert grouped == pytest.approx(one, rel=1e-5)
    assert torch.equal(torch.random.get_rng_state(), draws_before)  # eval draws nothing
    assert trainer.evaluate(ids, 8, 15, precision="bfloat16") == pytest.approx(one, rel=2e-2)
    assert lm.training  # the model's mode comes back


def test_masks_from_is_per_thread():
    drop = IntegerMaskDropout(0.5).train()
    x = torch.ones(64)
    with masks_from(torch.Generator().manual_seed(4)):
        first = drop(x)
    with masks_from(torch.Generator().manual_seed(4)):
        again = drop(x)
    assert torch.equal(first, again)
    seen = {}

    def other():  # another thread, outside any masks_from block: the global generator
        torch.manual_seed(9)
        seen["mask"] = drop(x)

    with masks_from(torch.Generator().manual_seed(4)):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    torch.manual_seed(9)
    assert torch.equal(seen["mask"], drop(x))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_gets_a_pool_of_its_own():
    """The child inherits the parent's pool object but none of its threads: work queued there
    would wait forever. The child must run its groups (in a fresh pool) and exit."""
    run_on_cores([lambda: 0, lambda: 1])  # the parent's pool exists
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, and never return into pytest
        try:
            os.write(write, repr(run_on_cores([lambda: 2, lambda: 3])).encode())
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on the parent's pool")
    assert os.read(read, 100) == b"[2, 3]"
    os.close(read)
