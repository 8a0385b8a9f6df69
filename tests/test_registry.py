"""The registry: discovery, provider records, and every way a plugin can go wrong."""

from __future__ import annotations

import importlib.metadata

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

        class ToyCorpus:
            registry_name = "toy"

        def make_plot(path):
            return path

        @hookimpl
        def register_datasets(register):
            register(ToyCorpus)
            register(ToyCorpus, name="toy_alias")

        @hookimpl
        def register_plotters(register):
            register(make_plot, name="toy_plot")
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
    assert (info.name, info.distribution, info.version, info.error, info.builtin) == (
        "toy_plugin", "tagkit-toy", "2.3", None, False)
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


def test_duplicate_names_name_both_distributions(dataset_plugin, make_plugin, fresh_registry):
    first = make_plugin("dup_one", dataset_plugin("same"), dist="tagkit-one")
    second = make_plugin("dup_two", dataset_plugin("same"), dist="tagkit-two")
    registry = fresh_registry(first, second)
    with pytest.raises(DuplicateComponent) as caught:
        registry.load()
    message = str(caught.value)
    assert "'same'" in message and "tagkit-one" in message and "tagkit-two" in message
    # The registry does not pretend to work afterwards: every later use raises the same error.
    with pytest.raises(DuplicateComponent, match="tagkit-one"):
        registry.components()
    assert [p.name for p in registry.plugins if p.error] == ["dup_two"]


def test_registering_the_same_object_twice_is_harmless(fresh_registry):
    registry = fresh_registry().load()

    class Loader:
        registry_name = "loader"

    registry.add("dataset", Loader)
    assert registry.add("dataset", Loader).obj is Loader


def test_wrong_type_raises_type_error(fresh_registry):
    registry = fresh_registry().load()
    with pytest.raises(TypeError, match="subclass of tagkit_core.embeddings.Embeddings"):
        registry.add("embedding", type("NotAnEmbedding", (), {"registry_name": "x"}))
    with pytest.raises(TypeError, match="must be a class or callable"):
        registry.add("dataset", 42, name="answer")
    with pytest.raises(TypeError, match="has no registry_name"):
        registry.add("dataset", type("Nameless", (), {}))
    with pytest.raises(ValueError, match="unknown component kind 'widget'"):
        registry.add("widget", object)


def test_wrong_type_from_a_plugin_is_recorded_as_its_error(make_plugin, fresh_registry):
    ep = make_plugin("wrong_type", """
        from tagkit_core import hookimpl

        class NotAModel:
            registry_name = "not_a_model"

        @hookimpl
        def register_models(register):
            register(NotAModel)
    """)
    registry = fresh_registry(ep)
    assert registry.components("model") == []
    (info,) = registry.plugins
    assert info.error.startswith("register_models failed: TypeError: a model must be a "
                                 "subclass of tagkit_core.model.Model")


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
