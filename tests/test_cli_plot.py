"""``tagkit plot``: a plotter found by registry name, its paths printed, user errors in one line.

The plotters here are throwaway plugins in a fresh registry, so these tests need no plotting
library; tagkit-plotters tests the real ``training_curves`` plotter through this command.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tagkit_core.cli import main
from tagkit_core.registry import reset_registry

PLOTTER_PLUGIN = """
    from pathlib import Path

    from tagkit_core import hookimpl
    from tagkit_core.plotting import Plotter


    class {cls}(Plotter):
        registry_name = "{name}"

        def plot(self, run_dir):
            source = Path(run_dir) / "loss.tsv"
            if not source.is_file():
                raise FileNotFoundError(f"{{source}}: no such file")
            if source.read_text() == "bad":
                raise ValueError(f"{{source}}: line 1: expected a header")
            written = Path(run_dir) / "{name}.txt"
            written.write_text("drawn by {name}")
            return [written]


    @hookimpl
    def register_plotters(register):
        register({cls})
"""


def plotter_plugin(name: str, cls: str = "TextPlotter") -> str:
    return PLOTTER_PLUGIN.format(name=name, cls=cls)


@pytest.fixture
def use_plugins(fresh_registry):
    def install(*entry_points):
        registry = fresh_registry(*entry_points)
        reset_registry(registry)
        return registry

    return install


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "loss.tsv").write_text("EPOCH\n1\n")
    return folder


def invoke(*args: str):
    return CliRunner().invoke(main, ["plot", *args])


def test_a_named_third_party_plotter_is_used(use_plugins, make_plugin, run_dir):
    use_plugins(make_plugin("third_party_plots", plotter_plugin("sketch"), dist="tagkit-sketch"))
    result = invoke(str(run_dir), "--plotter", "sketch")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{run_dir / 'sketch.txt'}\n"
    assert (run_dir / "sketch.txt").read_text() == "drawn by sketch"


def test_json_lists_the_written_paths(use_plugins, make_plugin, run_dir):
    use_plugins(make_plugin("default_name_plots", plotter_plugin("training_curves")))
    result = invoke(str(run_dir), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [str(run_dir / "training_curves.txt")]


def test_an_unknown_plotter_lists_the_registered_ones(use_plugins, make_plugin, run_dir):
    use_plugins(make_plugin("plots_a", plotter_plugin("alpha", "A")),
                make_plugin("plots_b", plotter_plugin("beta", "B")))
    result = invoke(str(run_dir), "--plotter", "gamma")
    assert result.exit_code == 1
    assert result.stderr == ("Error: no plotter named 'gamma' is registered "
                             "(available: alpha, beta).\n")
    assert "Traceback" not in result.output


def test_without_tagkit_plotters_the_default_says_what_to_install(use_plugins, run_dir):
    use_plugins()
    result = invoke(str(run_dir))
    assert result.exit_code == 1
    assert result.stderr == ("Error: no plotter named 'training_curves' is registered "
                             "(available: none). Install tagkit-plotters for it: "
                             "pip install tagkit-plotters\n")


def test_a_missing_folder_is_one_line(use_plugins, make_plugin, tmp_path):
    use_plugins(make_plugin("plots_m", plotter_plugin("training_curves")))
    result = invoke(str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'nowhere'}: no such folder (expected a "
                             "training run's base_path)\n")


@pytest.mark.parametrize(("content", "expected"), [
    (None, "loss.tsv: no such file"),
    ("bad", "loss.tsv: line 1: expected a header"),
])
def test_a_file_the_plotter_cannot_use_is_one_line(use_plugins, make_plugin, run_dir, content,
                                                   expected):
    use_plugins(make_plugin("plots_f", plotter_plugin("training_curves")))
    if content is None:
        (run_dir / "loss.tsv").unlink()
    else:
        (run_dir / "loss.tsv").write_text(content)
    result = invoke(str(run_dir))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {run_dir / expected}\n"
    assert result.stdout == ""


def test_a_name_two_plugins_register_is_refused(use_plugins, make_plugin, run_dir):
    use_plugins(make_plugin("plots_x", plotter_plugin("same", "X"), dist="tagkit-x"),
                make_plugin("plots_y", plotter_plugin("same", "Y"), dist="tagkit-y"))
    result = invoke(str(run_dir), "--plotter", "same")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 2 plugins register the plotter 'same': tagkit-x "
                                    "and tagkit-y")


def test_help_names_the_default():
    result = CliRunner().invoke(main, ["plot", "--help"])
    assert result.exit_code == 0
    assert "RUN_DIR" in result.output and "training_curves" in result.output
