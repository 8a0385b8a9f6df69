"""The registry: discovery, provider records, and every way a plugin can go wrong."""

from __future__ import annotations

import importlib.metadata
import textwrap

import pytest

from tagkit_core.registry import (
    KINDS,
    ComponentNotFound,
    DuplicateComponent,
    Registry,
    get_registry,
    reset_registry,
)


def test_components_are_recorded_with_their_provider(make_plugin, fresh_registry):
    ep = make_plugin("toy_plugin", """
        from tagkit_core import hookimpl
        from tagkit_core.corpus import Corpus
        from tagkit_core.plotting import Plotter

        class ToyCorpus(Corpus):
            registry_name = "toy"

        class ToyPlot(Plotter):
            def plot(self, run_dir):
                return []

        @hookimpl
        def register_datasets(register):
            register(ToyCorpus)
            register(ToyCorpus, name="toy_alias")

        @hookimpl
        def register_plotters(register):
            register(ToyPlot, name="toy_plot")
    """, dist="tagkit-toy", version="2.3")
    registry = fresh_registry(ep)

    toy = registry.get("dataset", "toy")
    assert (toy.kind, toy.name, toy.plugin, toy.distribution, toy.version) == (
        "dataset", "toy", "toy_plugin", "tagkit-toy", "2.3")
    assert toy.obj.__module__ == "toy_plugin"
    assert registry.resolve("dataset", "toy_alias") is toy.obj
    assert registry.get("plotter", "toy_plot").distribution == "tagkit-toy"
    assert [c.name for c in registry.components("dataset")] == ["toy", "toy_alias"]
    assert registry.provider_of(toy.obj).name in {"toy", "toy_alias"}
    (info,) = registry.plugins
    assert (info.name, info.distribution, info.version, info.error, info.builtin,
            info.conflicts, info.runtime_errors) == (
        "toy_plugin", "tagkit-toy", "2.3", None, False, [], [])
    assert info.hooks == ["register_datasets", "register_plotters"]
    assert toy.to_json()["object"] == "toy_plugin.ToyCorpus"


def test_plugins_load_once_and_lazily(dataset_plugin, make_plugin, fresh_registry):
    registry = fresh_registry(make_plugin("once", dataset_plugin("once")))
    assert registry.plugins == []  # nothing happens before first use
    registry.components()
    registry.load()
    assert len(registry.plugins) == 1


def test_entry_point_without_distribution_still_loads(dataset_plugin, make_plugin, fresh_registry):
    make_plugin("bare", dataset_plugin("bare"))
    ep = importlib.metadata.EntryPoint(name="bare", value="bare", group="tagkit")
    component = fresh_registry(ep).get("dataset", "bare")
    assert component.distribution is None and component.plugin == "bare"


def test_builtin_plugins_are_marked_and_provided_by_core(fresh_registry):
    import tagkit_core
    from tagkit_core.embeddings import StackedEmbeddings

    registry = fresh_registry(builtins=True)
    stacked = registry.get("embedding", StackedEmbeddings.registry_name)
    assert stacked.obj is StackedEmbeddings
    assert (stacked.distribution, stacked.version) == ("tagkit-core", tagkit_core.__version__)
    assert registry.plugins and all(info.builtin and info.error is None
                                    for info in registry.plugins)


def test_broken_plugin_is_recorded_and_others_still_load(dataset_plugin, make_plugin,
                                                         fresh_registry):
    broken = make_plugin("broken_plugin", """
        raise ImportError("needs a library that is not installed")
    """, dist="tagkit-broken")
    good = make_plugin("good_plugin", dataset_plugin("good"), dist="tagkit-good")
    registry = fresh_registry(broken, good)

    assert registry.get("dataset", "good").distribution == "tagkit-good"
    errors = {info.name: info.error for info in registry.plugins}
    assert errors["good_plugin"] is None
    assert errors["broken_plugin"] == "ImportError: needs a library that is not installed"
    with pytest.raises(ComponentNotFound, match="broken_plugin .*ImportError"):
        registry.get("dataset", "missing")


def test_failing_registration_hook_is_recorded(dataset_plugin, make_plugin, fresh_registry):
    failing = make_plugin("failing_hook", """
        from tagkit_core import hookimpl

        @hookimpl
        def register_datasets(register):
            raise RuntimeError("boom")
    """)
    good = make_plugin("good_too", dataset_plugin("good_too"))
    registry = fresh_registry(failing, good)
    assert registry.get("dataset", "good_too")
    (info,) = [p for p in registry.plugins if p.name == "failing_hook"]
    assert info.error == "register_datasets failed: RuntimeError: boom"


def test_duplicate_name_is_disabled_and_everything_else_works(dataset_plugin, make_plugin,
                                                              fresh_registry):
    """Issue 17 item 3: a duplicate disables that name only (it used to stop the registry)."""
    first = make_plugin("dup_one", dataset_plugin("same"), dist="tagkit-one")
    second = make_plugin("dup_two", dataset_plugin("same"), dist="tagkit-two")
    other = make_plugin("dup_bystander", dataset_plugin("other"), dist="tagkit-other")
    registry = fresh_registry(first, second, other).load()  # loading does not raise

    assert registry.get("dataset", "other").distribution == "tagkit-other"
    assert [c.name for c in registry.components()] == ["other"]  # neither 'same' is served
    for _ in range(2):  # and it stays that way, with the same message, on every lookup
        with pytest.raises(DuplicateComponent) as caught:
            registry.get("dataset", "same")
        message = str(caught.value)
        assert "'same'" in message and "tagkit-one" in message and "tagkit-two" in message
        with pytest.raises(DuplicateComponent):
            registry.resolve("dataset", "same")
    (conflict,) = registry.conflicts()
    assert (conflict.kind, conflict.name) == ("dataset", "same")
    assert [c.distribution for c in conflict.candidates] == ["tagkit-one", "tagkit-two"]
    infos = {info.name: info for info in registry.plugins}
    assert infos["dup_one"].conflicts == infos["dup_two"].conflicts == [conflict.message]
    assert infos["dup_bystander"].conflicts == []
    assert all(info.error is None for info in registry.plugins)
    # a saved model may still say who provided its class
    assert registry.provider_of(conflict.candidates[1].obj).distribution == "tagkit-two"


def test_third_registration_of_a_disabled_name_joins_the_conflict(dataset_plugin, make_plugin,
                                                                 fresh_registry):
    eps = [make_plugin(f"tri_{n}", dataset_plugin("tri"), dist=f"tagkit-{n}")
           for n in ("a", "b", "c")]
    registry = fresh_registry(*eps)
    with pytest.raises(DuplicateComponent, match="3 plugins .*tagkit-a, tagkit-b and tagkit-c"):
        registry.get("dataset", "tri")


def test_direct_add_of_a_taken_name_raises_and_changes_nothing(fresh_registry):
    from tagkit_core.corpus import Corpus

    registry = fresh_registry()
    first = registry.add("dataset", type("One", (Corpus,), {"registry_name": "taken"}))
    with pytest.raises(DuplicateComponent, match="'taken'"):
        registry.add("dataset", type("Two", (Corpus,), {"registry_name": "taken"}))
    assert registry.get("dataset", "taken") is first


def test_registering_the_same_object_twice_is_harmless(fresh_registry):
    registry = fresh_registry().load()

    from tagkit_core.corpus import Corpus

    class Loader(Corpus):
        registry_name = "loader"

    registry.add("dataset", Loader)
    assert registry.add("dataset", Loader).obj is Loader


def test_wrong_type_raises_type_error(fresh_registry):
    registry = fresh_registry().load()
    with pytest.raises(TypeError, match="subclass of tagkit_core.embeddings.Embeddings"):
        registry.add("embedding", type("NotAnEmbedding", (), {"registry_name": "x"}))
    not_a_corpus = "a dataset must be a subclass of tagkit_core.corpus.Corpus"
    with pytest.raises(TypeError, match=not_a_corpus):
        registry.add("dataset", 42, name="answer")
    with pytest.raises(TypeError, match=not_a_corpus):
        registry.add("dataset", lambda: None, name="loader_function")
    with pytest.raises(TypeError, match="a plotter must be a subclass of tagkit_core.plotting"):
        registry.add("plotter", type("Drawing", (), {"registry_name": "x"}))
    with pytest.raises(TypeError, match="has no registry_name"):
        from tagkit_core.corpus import Corpus

        registry.add("dataset", type("Nameless", (Corpus,), {}))
    with pytest.raises(ValueError, match="unknown component kind 'widget'"):
        registry.add("widget", object)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_wrong_type_from_a_plugin_is_recorded_as_its_error(kind, dataset_plugin, make_plugin,
                                                           fresh_registry):
    """Every kind is checked; a plain function used to pass as a dataset or a plotter."""
    hook, base = KINDS[kind]
    ep = make_plugin("wrong_type", f"""
        from tagkit_core import hookimpl

        def not_a_{kind}():
            pass

        @hookimpl
        def {hook}(register):
            register(not_a_{kind}, name="wrong")
    """)
    registry = fresh_registry(ep, make_plugin("right_type", dataset_plugin("right")))
    assert [c.name for c in registry.components()] == ["right"]
    info = registry.plugin_info("wrong_type")
    article = "an" if kind == "embedding" else "a"
    assert info.error.startswith(f"{hook} failed: TypeError: {article} {kind} must be a "
                                 f"subclass of {base.replace(':', '.')}, "
                                 f"got <function not_a_{kind}")
    assert registry.plugin_info("right_type").error is None


def test_missing_component_lists_what_exists_and_what_to_install(dataset_plugin, make_plugin,
                                                                 fresh_registry):
    registry = fresh_registry(make_plugin("have", dataset_plugin("have")))
    with pytest.raises(ComponentNotFound) as caught:
        registry.get("dataset", "UD_KLINGON", distribution_hint="tagkit-datasets")
    message = str(caught.value)
    assert "no dataset named 'UD_KLINGON'" in message
    assert "(available: have)" in message
    assert "pip install tagkit-datasets" in message
    with pytest.raises(ComponentNotFound, match=r"available: none"):
        registry.get("plotter", "curves")
    with pytest.raises(ValueError, match="kinds are " + ", ".join(KINDS)):
        registry.components("widget")


def test_load_plugins_variable_selects_entry_points(dataset_plugin, make_plugin,
                                                    fresh_registry, monkeypatch):
    eps = [make_plugin(f"sel_{n}", dataset_plugin(n)) for n in ("a", "b", "c")]
    monkeypatch.setenv("TAGKIT_LOAD_PLUGINS", "")
    assert fresh_registry(*eps).components() == []
    assert fresh_registry(*eps).plugins == []
    monkeypatch.setenv("TAGKIT_LOAD_PLUGINS", " sel_a, sel_c ")
    assert [c.name for c in fresh_registry(*eps).components()] == ["a", "c"]


def test_load_plugins_empty_keeps_builtins(fresh_registry, monkeypatch):
    monkeypatch.setenv("TAGKIT_LOAD_PLUGINS", "")
    registry = fresh_registry(builtins=True).load()
    assert registry.plugins and all(info.builtin for info in registry.plugins)


def test_misspelt_hook_is_recorded_and_the_plugin_left_out(dataset_plugin, make_plugin,
                                                           fresh_registry):
    """Decision: an unknown hook is a broken plugin (recorded), not a process-wide crash."""
    typo = make_plugin("typo_plugin", """
        from tagkit_core import hookimpl

        class Half:
            registry_name = "half"

        @hookimpl
        def register_dataset(register):
            pass

        @hookimpl
        def register_plotters(register):
            register(Half)
    """)
    good = make_plugin("fine_plugin", dataset_plugin("fine"))
    registry = fresh_registry(typo, good).load()
    (info,) = [p for p in registry.plugins if p.name == "typo_plugin"]
    assert info.error == "unknown hook register_dataset (did you mean register_datasets?)"
    # The whole plugin is left out, so it cannot half-work...
    assert registry.components("plotter") == []
    assert not registry.pm.is_registered(registry.pm.get_plugin("typo_plugin"))
    # ...the others load, and pluggy agrees nothing unknown is pending.
    assert registry.get("dataset", "fine")
    registry.pm.check_pending()


def test_optional_unknown_hook_is_allowed(make_plugin, fresh_registry):
    ep = make_plugin("optional_hook", """
        from tagkit_core import hookimpl

        @hookimpl(optionalhook=True)
        def on_future_event(trainer):
            pass
    """)
    (info,) = fresh_registry(ep).load().plugins
    assert info.error is None


def test_wrong_hook_arguments_are_recorded(make_plugin, fresh_registry):
    ep = make_plugin("bad_args", """
        from tagkit_core import hookimpl

        @hookimpl
        def register_datasets(registrar):
            pass
    """)
    (info,) = fresh_registry(ep).load().plugins
    assert "PluginValidationError" in info.error and "registrar" in info.error


def test_trace_plugins_writes_hook_calls_to_stderr(fresh_registry, monkeypatch, capsys):
    monkeypatch.setenv("TAGKIT_TRACE_PLUGINS", "1")
    registry = fresh_registry()
    registry.hook.on_epoch_start(trainer=None, epoch=1, learning_rate=0.1)
    assert "on_epoch_start" in capsys.readouterr().err


def test_process_wide_registry_is_shared_and_replaceable(fresh_registry):
    replacement = fresh_registry()
    reset_registry(replacement)
    assert get_registry() is replacement is get_registry()
    reset_registry(None)
    assert isinstance(get_registry(), Registry) and get_registry() is not replacement


def test_registration_hooks_are_called_through_pluggy(dataset_plugin, make_plugin,
                                                      fresh_registry, monkeypatch, capsys):
    """Tracing shows the registration calls (they used to bypass pluggy)."""
    monkeypatch.setenv("TAGKIT_TRACE_PLUGINS", "1")
    registry = fresh_registry(make_plugin("traced", dataset_plugin("traced")))
    assert registry.get("dataset", "traced").plugin == "traced"
    trace = capsys.readouterr().err
    assert "register_datasets [hook]" in trace
    assert "register: <register dataset for plugin traced>" in trace


BASE_EXCEPTIONS = {
    "sys.exit": ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
    "GeneratorExit": ("raise GeneratorExit('closing')\n", "GeneratorExit: closing"),
    # neither an Exception nor an interrupt
    "custom": ("class PluginBaseException(BaseException):\n    pass\n"
               "raise PluginBaseException('odd')\n", "PluginBaseException: odd"),
}


@pytest.mark.parametrize("case", sorted(BASE_EXCEPTIONS))
def test_base_exception_at_import_is_a_broken_plugin(case, dataset_plugin, make_plugin,
                                                     fresh_registry):
    """Issue 17 item 4: SystemExit & co. at import used to end the process."""
    source, expected = BASE_EXCEPTIONS[case]
    registry = fresh_registry(make_plugin("exits", source),
                              make_plugin("survives", dataset_plugin("survives")))
    assert registry.get("dataset", "survives")
    assert registry.plugin_info("exits").error.endswith(expected)


@pytest.mark.parametrize("case", sorted(BASE_EXCEPTIONS))
def test_base_exception_in_a_registration_hook_is_recorded(case, dataset_plugin, make_plugin,
                                                           fresh_registry):
    source, expected = BASE_EXCEPTIONS[case]
    body = textwrap.indent(source, "    ")
    ep = make_plugin("hook_exits", "from tagkit_core import hookimpl\n\n"
                     "@hookimpl\ndef register_datasets(register):\n" + body)
    registry = fresh_registry(ep, make_plugin("hook_survives", dataset_plugin("ok")))
    assert registry.get("dataset", "ok")
    assert registry.plugin_info("hook_exits").error.startswith("register_datasets failed: ")
    assert registry.plugin_info("hook_exits").error.endswith(expected)


def test_keyboard_interrupt_in_a_plugin_propagates(make_plugin, fresh_registry):
    with pytest.raises(KeyboardInterrupt):
        fresh_registry(make_plugin("interrupts", "raise KeyboardInterrupt\n")).load()
    ep = make_plugin("hook_interrupts", """
        from tagkit_core import hookimpl

        @hookimpl
        def register_models(register):
            raise KeyboardInterrupt
    """)
    with pytest.raises(KeyboardInterrupt):
        fresh_registry(ep).load()
