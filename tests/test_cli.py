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
                                  "error": None, "builtin": False}
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
            "distribution": "tagkit-comp", "version": "4.0"} in listed
    assert all({"kind", "name", "distribution", "version"} <= set(item) for item in listed)
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


def test_duplicate_component_is_a_clean_error(runner, use_plugins, make_plugin, dataset_plugin):
    use_plugins(make_plugin("dup_a", dataset_plugin("twin"), dist="tagkit-a"),
                make_plugin("dup_b", dataset_plugin("twin"), dist="tagkit-b"))
    for args in (["components"], ["plugins"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1
        assert "tagkit-a" in result.output and "tagkit-b" in result.output
        assert "Traceback" not in result.output
    help_result = runner.invoke(main, ["--help"])
    assert help_result.exit_code == 0 and "plugin commands were not loaded" in help_result.stderr
    result = runner.invoke(main, ["nope"])
    assert result.exit_code == 2 and "plugin commands were not loaded" in result.output


def test_main_is_a_click_group_named_tagkit():
    assert isinstance(main, click.Group)
    assert {"plugins", "components"} <= set(main.commands)
