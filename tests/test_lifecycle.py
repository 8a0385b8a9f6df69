"""LifecycleHooks: one plugin's failing lifecycle hook is isolated, logged and recorded.

Each test builds a fresh Registry from fake plugins (tests/conftest.py) and drives the hooks by
hand, in the order the trainer calls them, with stand-in arguments: the hooks' contract is the
dispatch, not the trainer.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from tagkit_core import hookimpl
from tagkit_core.lifecycle import HookFailure, LifecycleHooks

RECORDER = """
    from tagkit_core import hookimpl

    CALLS = []

    @hookimpl
    def on_train_start(base_path):
        CALLS.append(("on_train_start", base_path))

    @hookimpl
    def on_epoch_start(epoch):
        CALLS.append(("on_epoch_start", epoch))

    @hookimpl
    def on_epoch_end(epoch):
        CALLS.append(("on_epoch_end", epoch))

    @hookimpl
    def on_train_interrupted(reason):
        CALLS.append(("on_train_interrupted", reason))

    @hookimpl
    def on_train_end(result):
        CALLS.append(("on_train_end", result))
"""

FAILS_AT_EPOCH_END = RECORDER + """
    @hookimpl
    def on_epoch_end(epoch):
        CALLS.append(("on_epoch_end", epoch))
        raise {error}
"""


def run_epochs(hooks: LifecycleHooks, epochs: int = 3) -> None:
    """The trainer's sequence for a run that completes."""
    hooks.call("on_train_start", trainer=None, base_path="run")
    for epoch in range(1, epochs + 1):
        hooks.call("on_epoch_start", trainer=None, epoch=epoch, learning_rate=0.1)
        hooks.call("on_epoch_end", trainer=None, epoch=epoch, metrics=None)
    hooks.call("on_train_end", trainer=None, base_path="run", result={"test_score": 1.0})


@pytest.fixture
def plugin_calls():
    import sys

    return lambda module: sys.modules[module].CALLS


def test_failing_hook_is_logged_recorded_and_its_plugin_disabled(make_plugin, fresh_registry,
                                                                 plugin_calls, caplog):
    registry = fresh_registry(
        make_plugin("flaky_logger", FAILS_AT_EPOCH_END.format(error="RuntimeError('disk full')")),
        make_plugin("steady_logger", RECORDER))
    hooks = LifecycleHooks(registry)
    with caplog.at_level(logging.WARNING, logger="tagkit.trainer"):
        run_epochs(hooks)

    assert hooks.failures == [HookFailure("flaky_logger", "on_epoch_end",
                                          "RuntimeError: disk full")]
    assert hooks.disabled == {"flaky_logger"}
    (record,) = [r for r in caplog.records if r.name == "tagkit.trainer"]
    assert record.levelno == logging.WARNING
    assert "flaky_logger" in record.message and "on_epoch_end" in record.message
    assert "RuntimeError: disk full" in record.message
    # skipped after its failure, except on_train_end, which it still gets to close its files
    assert plugin_calls("flaky_logger") == [
        ("on_train_start", "run"), ("on_epoch_start", 1), ("on_epoch_end", 1),
        ("on_train_end", {"test_score": 1.0})]
    # the other plugin saw the whole run
    assert [name for name, _ in plugin_calls("steady_logger")] == [
        "on_train_start", *["on_epoch_start", "on_epoch_end"] * 3, "on_train_end"]
    # and a listing in this process shows the runtime error on the plugin
    assert registry.plugin_info("flaky_logger").runtime_errors == [
        "on_epoch_end: RuntimeError: disk full"]
    assert registry.plugin_info("steady_logger").runtime_errors == []


def test_plain_pluggy_call_would_have_stopped_at_the_failure(make_plugin, fresh_registry):
    """What LifecycleHooks replaces: the first raising implementation ends the call."""
    registry = fresh_registry(
        make_plugin("flaky_plain", FAILS_AT_EPOCH_END.format(error="RuntimeError('x')")))
    with pytest.raises(RuntimeError):
        registry.hook.on_epoch_end(trainer=None, epoch=1, metrics=None)


def test_system_exit_in_a_hook_is_a_failure_not_the_end(make_plugin, fresh_registry):
    registry = fresh_registry(make_plugin("exits_hook", FAILS_AT_EPOCH_END.format(
        error="SystemExit(2)")))
    hooks = LifecycleHooks(registry)
    run_epochs(hooks)
    assert hooks.failures == [HookFailure("exits_hook", "on_epoch_end", "SystemExit: 2")]


def test_keyboard_interrupt_in_a_hook_propagates(make_plugin, fresh_registry):
    registry = fresh_registry(make_plugin("ctrl_c", FAILS_AT_EPOCH_END.format(
        error="KeyboardInterrupt")))
    hooks = LifecycleHooks(registry)
    hooks.call("on_train_start", trainer=None, base_path="run")
    with pytest.raises(KeyboardInterrupt):
        hooks.call("on_epoch_end", trainer=None, epoch=1, metrics=None)
    assert hooks.failures == [] and hooks.disabled == set()


def test_on_train_end_is_called_once_and_on_a_crash(make_plugin, fresh_registry, plugin_calls):
    registry = fresh_registry(make_plugin("closer", RECORDER))
    with pytest.raises(ValueError, match="model exploded"):
        with LifecycleHooks(registry) as hooks:
            hooks.call("on_train_start", trainer=None, base_path="run")
            raise ValueError("model exploded")
    assert plugin_calls("closer")[-1] == ("on_train_end",
                                          {"error": "ValueError: model exploded"})

    # the non-finite-loss path calls on_train_end itself, then raises: no second call
    plugin_calls("closer").clear()
    with pytest.raises(ArithmeticError):
        with LifecycleHooks(registry) as hooks:
            hooks.call("on_train_start", trainer=None, base_path="run")
            hooks.call("on_train_interrupted", trainer=None, epoch=1, reason="nan")
            hooks.call("on_train_end", trainer=None, base_path="run", result={})
            raise ArithmeticError("nan loss")
    assert [name for name, _ in plugin_calls("closer")] == [
        "on_train_start", "on_train_interrupted", "on_train_end"]


def test_core_training_files_plugin_closes_its_log_when_another_plugin_fails(
        make_plugin, fresh_registry, tmp_path):
    registry = fresh_registry(make_plugin("breaks_start", """
        from tagkit_core import hookimpl

        @hookimpl
        def on_train_start(trainer):
            raise OSError("no space left")
    """), builtins=True)
    trainer = SimpleNamespace(
        epoch=0, model=object(), config=SimpleNamespace(to_json=lambda: {}),
        corpus=SimpleNamespace(name="toy", train=[], dev=[], test=[]))
    tagkit_logger = logging.getLogger("tagkit")
    handlers_before = list(tagkit_logger.handlers)
    with pytest.raises(RuntimeError):
        with LifecycleHooks(registry) as hooks:
            hooks.call("on_train_start", trainer=trainer, base_path=tmp_path)
            assert len(tagkit_logger.handlers) == len(handlers_before) + 1  # training.log
            raise RuntimeError("training crashed")
    assert tagkit_logger.handlers == handlers_before
    assert hooks.failures == [HookFailure("breaks_start", "on_train_start",
                                          "OSError: no space left")]
    assert "start: training object on toy" in (tmp_path / "training.log").read_text()


class TrainerPlugin:
    """A plugin object handed to ModelTrainer(plugins=[...]) for one run."""

    def __init__(self) -> None:
        self.epochs: list[int] = []

    @hookimpl
    def on_epoch_end(self, epoch):
        self.epochs.append(epoch)
        if epoch == 2:
            raise ValueError("bad epoch")


def test_extra_plugins_are_registered_for_the_run_only(fresh_registry, caplog):
    registry = fresh_registry()
    extra = TrainerPlugin()
    with caplog.at_level(logging.WARNING, logger="tagkit.trainer"):
        with LifecycleHooks(registry, extra_plugins=[extra]) as hooks:
            assert registry.pm.is_registered(extra)
            run_epochs(hooks)
    assert not registry.pm.is_registered(extra)
    assert extra.epochs == [1, 2]
    assert hooks.failures == [HookFailure("TrainerPlugin", "on_epoch_end",
                                          "ValueError: bad epoch")]
    assert "plugin TrainerPlugin failed in on_epoch_end: ValueError: bad epoch" in caplog.text


def test_misspelt_hook_of_an_extra_plugin_is_a_warning(fresh_registry, caplog):
    class Typo:
        @hookimpl
        def on_epoch_ends(self, epoch):
            pass

    with caplog.at_level(logging.WARNING, logger="tagkit.trainer"):
        with LifecycleHooks(fresh_registry(), extra_plugins=[Typo()]):
            pass
    assert "implements unknown hook on_epoch_ends (did you mean on_epoch_end?)" in caplog.text


def test_each_plugin_call_goes_through_pluggy(make_plugin, fresh_registry, monkeypatch,
                                              capsys):
    monkeypatch.setenv("TAGKIT_TRACE_PLUGINS", "1")
    registry = fresh_registry(make_plugin("trace_a", RECORDER), make_plugin("trace_b", RECORDER))
    capsys.readouterr()
    LifecycleHooks(registry).call("on_epoch_start", trainer=None, epoch=7, learning_rate=0.5)
    trace = capsys.readouterr().err
    assert trace.count("on_epoch_start [hook]") == 2  # once per plugin
    assert "epoch: 7" in trace


def test_only_lifecycle_hooks_can_be_called(fresh_registry):
    with pytest.raises(ValueError, match="'register_models' is not a lifecycle hook"):
        LifecycleHooks(fresh_registry()).call("register_models", register=print)
