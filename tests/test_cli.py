"""The ``tagkit`` CLI through click's CliRunner, against a fake plugin set per test."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

import tagkit_core
from tagkit_core.cli import main
from tagkit_core.registry import KINDS, reset_registry

COMMAND_PLUGIN = """
    import click
    from tagkit_core import hookimpl

    @hookimpl
    def register_commands(cli):
        @cli.command(name="{name}")
        @click.argument("who", default="world")
        def hello(who):
            "Say hello."
            click.echo(f"hello {{who}} from {name}")
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def use_plugins(fresh_registry):
    """Make the process-wide registry (the one the CLI uses) hold exactly these plugins."""

    def install(*entry_points, builtins: bool = False):
        registry = fresh_registry(*entry_points, builtins=builtins)
        reset_registry(registry)
        return registry

    return install


def invoke_json(runner: CliRunner, *args: str) -> list[dict]:
    result = runner.invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"tagkit, version {tagkit_core.__version__}"


def test_plugins_json_shows_versions_hooks_and_errors(runner, use_plugins, make_plugin,
                                                      dataset_plugin):
    use_plugins(
        make_plugin("cli_good", dataset_plugin("cli_good"), dist="tagkit-good", version="1.2"),
        make_plugin("cli_broken", "import not_installed_anywhere\n", dist="tagkit-broken"),
    )
    listed = {p["name"]: p for p in invoke_json(runner, "plugins")}
    assert listed["cli_good"] == {"name": "cli_good", "distribution": "tagkit-good",
                                  "version": "1.2", "hooks": ["register_datasets"],
                                  "error": None, "builtin": False, "conflicts": [],
                                  "runtime_errors": []}
    assert listed["cli_broken"]["error"] == (
        "ModuleNotFoundError: No module named 'not_installed_anywhere'")


def test_plugins_hides_builtins_unless_all(runner, use_plugins):
    use_plugins(builtins=True)
    assert invoke_json(runner, "plugins") == []
    everything = invoke_json(runner, "plugins", "--all")
    assert everything and all(p["builtin"] and p["distribution"] == "tagkit-core"
                              for p in everything)
    assert "--all shows built-ins" in runner.invoke(main, ["plugins"]).output


def test_plugins_hook_filter(runner, use_plugins, make_plugin, dataset_plugin):
    use_plugins(make_plugin("with_data", dataset_plugin("d")),
                make_plugin("with_cmd", COMMAND_PLUGIN.format(name="hi")))
    assert [p["name"] for p in invoke_json(runner, "plugins", "--hook", "register_commands")
            ] == ["with_cmd"]
    result = runner.invoke(main, ["plugins", "--hook", "register_dataset"])
    assert result.exit_code == 2 and "no hook named 'register_dataset'" in result.output


def test_plugins_human_output(runner, use_plugins, make_plugin, dataset_plugin):
    use_plugins(make_plugin("readable", dataset_plugin("r"), dist="tagkit-r", version="0.3"),
                make_plugin("unreadable", "raise ImportError('nope')\n", dist="tagkit-u"))
    result = runner.invoke(main, ["plugins"])
    assert result.exit_code == 0
    assert "readable: tagkit-r 0.3\n  hooks: register_datasets\n" in result.output
    assert "  error: ImportError: nope" in result.output


def test_components_json(runner, use_plugins, make_plugin, dataset_plugin):
    use_plugins(make_plugin("comp", dataset_plugin("toy"), dist="tagkit-comp", version="4.0"),
                builtins=True)
    listed = invoke_json(runner, "components")
    assert {"kind": "dataset", "name": "toy", "object": "comp.ToyCorpus", "plugin": "comp",
            "distribution": "tagkit-comp", "version": "4.0", "error": None} in listed
    assert all({"kind", "name", "distribution", "version", "error"} <= set(item)
               for item in listed)
    assert {item["kind"] for item in listed} == {"dataset", "embedding", "storage_mode"}
    assert [item["name"] for item in invoke_json(runner, "components", "dataset")] == ["toy"]
    assert invoke_json(runner, "components", "plotter") == []


def test_components_human_output_and_failure_note(runner, use_plugins, make_plugin,
                                                 dataset_plugin):
    use_plugins(make_plugin("shown", dataset_plugin("toy"), dist="tagkit-shown", version="1"),
                make_plugin("hurt", "raise ImportError('x')\n"))
    result = runner.invoke(main, ["components"])
    assert result.exit_code == 0
    assert result.stdout.split() == ["dataset", "toy", "tagkit-shown", "1", "shown.ToyCorpus"]
    assert "1 plugin(s) failed to load (hurt)" in result.stderr


def test_unknown_kind_is_a_usage_error_listing_the_kinds(runner, use_plugins):
    use_plugins()
    result = runner.invoke(main, ["components", "widget"])
    assert result.exit_code == 2
    assert "'widget' is not one of " + ", ".join(f"'{kind}'" for kind in KINDS) in result.output


def test_plugin_command_is_added_and_runs(runner, use_plugins, make_plugin):
    use_plugins(make_plugin("greeter", COMMAND_PLUGIN.format(name="greet")))
    assert "greet" in runner.invoke(main, ["--help"]).output
    result = runner.invoke(main, ["greet", "tagkit"])
    assert result.exit_code == 0 and result.output == "hello tagkit from greet\n"


def test_plugin_commands_follow_the_registry(runner, use_plugins, make_plugin):
    use_plugins(make_plugin("first_cmds", COMMAND_PLUGIN.format(name="first")))
    assert runner.invoke(main, ["first"]).exit_code == 0
    use_plugins()
    result = runner.invoke(main, ["first"])
    assert result.exit_code == 2 and "No such command 'first'" in result.output


def test_failing_command_hook_does_not_break_the_cli(runner, use_plugins, make_plugin):
    use_plugins(
        make_plugin("cmd_fails", """
            from tagkit_core import hookimpl

            @hookimpl
            def register_commands(cli):
                raise RuntimeError("no commands today")
        """),
        make_plugin("cmd_works", COMMAND_PLUGIN.format(name="works")),
    )
    assert runner.invoke(main, ["works"]).output == "hello world from works\n"
    listed = {p["name"]: p["error"] for p in invoke_json(runner, "plugins")}
    assert listed == {"cmd_fails": "register_commands failed: RuntimeError: no commands today",
                      "cmd_works": None}


def test_plugin_cannot_replace_a_builtin_command(runner, use_plugins, make_plugin):
    use_plugins(make_plugin("hijacker", COMMAND_PLUGIN.format(name="plugins")))
    (info,) = invoke_json(runner, "plugins")  # still the real command
    assert info["error"] == "register_commands tried to replace the command 'plugins'"


def test_duplicate_component_is_shown_and_the_rest_works(runner, use_plugins, make_plugin,
                                                        dataset_plugin):
    """Issue 17 item 3: both commands used to exit 1 with only the duplicate error."""
    use_plugins(make_plugin("dup_a", dataset_plugin("twin"), dist="tagkit-a"),
                make_plugin("dup_b", dataset_plugin("twin"), dist="tagkit-b"),
                make_plugin("solo", dataset_plugin("single"), dist="tagkit-solo"),
                make_plugin("dup_cmd", COMMAND_PLUGIN.format(name="still-here")))

    listed = invoke_json(runner, "components")
    served = [item for item in listed if item["error"] is None]
    assert [(item["name"], item["distribution"]) for item in served] == [
        ("single", "tagkit-solo")]
    disabled = [item for item in listed if item["error"] is not None]
    assert [(item["name"], item["distribution"]) for item in disabled] == [
        ("twin", "tagkit-a"), ("twin", "tagkit-b")]
    assert all("tagkit-a and tagkit-b" in item["error"] for item in disabled)

    plugins = {p["name"]: p for p in invoke_json(runner, "plugins")}
    assert plugins["dup_a"]["conflicts"] == plugins["dup_b"]["conflicts"] == [
        disabled[0]["error"]]
    assert plugins["solo"]["conflicts"] == [] and plugins["solo"]["error"] is None

    human = runner.invoke(main, ["components"])
    assert human.exit_code == 0
    assert "single" in human.stdout and "(disabled: duplicate name)" in human.stdout
    assert "Error: 2 plugins register the dataset 'twin': tagkit-a and tagkit-b" in human.stderr
    human = runner.invoke(main, ["plugins"])
    assert human.exit_code == 0 and "  conflict: 2 plugins register" in human.output
    assert runner.invoke(main, ["still-here"]).output == "hello world from still-here\n"


def test_command_hooks_are_called_through_pluggy(runner, use_plugins, make_plugin, monkeypatch):
    monkeypatch.setenv("TAGKIT_TRACE_PLUGINS", "1")
    use_plugins(make_plugin("traced_cmd", COMMAND_PLUGIN.format(name="traced")))
    result = runner.invoke(main, ["traced"])
    assert result.stdout == "hello world from traced\n"
    assert "register_commands [hook]" in result.stderr


def test_base_exception_in_a_command_hook_is_recorded(runner, use_plugins, make_plugin):
    use_plugins(
        make_plugin("cmd_exits", """
            import sys
            from tagkit_core import hookimpl

            @hookimpl
            def register_commands(cli):
                sys.exit("no commands")
        """),
        make_plugin("cmd_fine", COMMAND_PLUGIN.format(name="fine")),
    )
    assert runner.invoke(main, ["fine"]).output == "hello world from fine\n"
    listed = {p["name"]: p["error"] for p in invoke_json(runner, "plugins")}
    assert listed == {"cmd_exits": "register_commands failed: SystemExit: no commands",
                      "cmd_fine": None}


def test_main_is_a_click_group_named_tagkit():
    assert isinstance(main, click.Group)
    assert {"plugins", "components"} <= set(main.commands)
