"""keep_freed_memory: a training step's large buffers are reused, not faulted in anew.

Each case runs in a fresh process: the setting is process-wide and decided once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tagkit_core import allocator

GLIBC = sys.platform.startswith("linux") and allocator._glibc() is not None

# Allocates and fills a 48 MB tensor ten times (above glibc's own mmap threshold, as a step's
# workspaces are), counting the page faults, before and after keep_freed_memory().
PROBE = textwrap.dedent("""
    import json, logging, resource, sys, torch
    from tagkit_core.allocator import keep_freed_memory

    def faults():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(10):
            torch.empty(12 * 1024 * 1024).fill_(1.0)
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    faults()
    default = faults()
    kept = keep_freed_memory()
    faults()  # the heap grows once
    print(json.dumps({"kept": kept, "again": keep_freed_memory(), "default": default,
                      "after": faults()}))
""")


# Every variable that makes keep_freed_memory leave malloc alone.
SETTINGS = (*allocator._USER_SETTINGS, "GLIBC_TUNABLES", "LD_PRELOAD", allocator.OPT_OUT_VARIABLE)


def probe(source: str = PROBE, **env: str) -> dict:
    """Run ``source`` in a fresh process with none of SETTINGS but ``env``; its JSON line."""
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          env={**environment, **env}, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="a glibc setting: no other C library has it")
def test_freed_buffers_are_reused_instead_of_faulted_in_again():
    result = probe()
    assert result["kept"] is True and result["again"] is True
    # 48 MB is about 12,000 pages: each round faults them all in by default.
    assert result["default"] > 50_000
    assert result["after"] < result["default"] / 20


@pytest.mark.skipif(not GLIBC, reason="a glibc setting: no other C library has it")
@pytest.mark.parametrize("env", [{allocator.OPT_OUT_VARIABLE: "0"},
                                 {allocator.OPT_OUT_VARIABLE: "off"},
                                 {"MALLOC_TRIM_THRESHOLD_": "131072"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.tcache_count=0"}])
def test_opt_out_and_a_users_own_malloc_settings_are_left_alone(env):
    result = probe(**env)
    assert result["kept"] is False and result["again"] is False
    assert result["after"] > 50_000  # still faulting: nothing was changed


def test_another_c_library_is_left_alone(monkeypatch):
    monkeypatch.setattr(allocator, "_decided", None)
    monkeypatch.setattr(allocator, "_glibc", lambda: None)
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert allocator.keep_freed_memory() is False


def test_a_preloaded_allocator_is_left_alone(monkeypatch):
    monkeypatch.setattr(allocator, "_decided", None)
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")

    def must_not_be_called():
        raise AssertionError("glibc looked up despite a preloaded allocator")

    monkeypatch.setattr(allocator, "_glibc", must_not_be_called)
    assert allocator.keep_freed_memory() is False


# A 200 MB tensor freed inside nested blocks: kept in the process until the outer block ends.
RELEASE_PROBE = textwrap.dedent("""
    import json, torch
    from tagkit_core.allocator import freed_memory_kept

    def rss_mb():
        with open("/proc/self/status") as handle:
            return next(int(line.split()[1]) for line in handle
                        if line.startswith("VmRSS:")) / 1024

    start = rss_mb()
    with freed_memory_kept() as kept:
        with freed_memory_kept():
            x = torch.ones(50 * 1024 * 1024)
            del x
        inner = rss_mb()
        try:
            with freed_memory_kept():
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            pass
        still = rss_mb()
    print(json.dumps({"kept": kept, "start": start, "inner": inner, "still": still,
                      "after": rss_mb()}))
""")


@pytest.mark.skipif(not GLIBC, reason="a glibc setting: no other C library has it")
def test_the_outermost_block_hands_freed_memory_back_when_it_ends():
    result = probe(RELEASE_PROBE)
    assert result["kept"] is True
    # Kept after the inner blocks end (one of them by an interrupt)...
    assert result["inner"] - result["start"] > 150
    assert result["still"] - result["start"] > 150
    # ... and handed back when the outer one does.
    assert result["after"] - result["start"] < 50


def test_release_does_nothing_where_nothing_was_kept(monkeypatch):
    monkeypatch.setattr(allocator, "_decided", False)

    def must_not_be_called():
        raise AssertionError("malloc_trim looked up although nothing was kept")

    monkeypatch.setattr(allocator, "_glibc", must_not_be_called)
    assert allocator.release_freed_memory() is False
    with allocator.freed_memory_kept() as kept:
        assert kept is False
