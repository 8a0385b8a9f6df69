"""The pictures: written beside their input, valid PNGs of a readable size, from real runs."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tagkit_core.cli import main
from tagkit_core.plotting import Plotter as PlotterBase
from tagkit_core.registry import Registry
from tagkit_plotters import Plotter, TrainingFileError


def finder_lines(rows: int = 40) -> list[str]:
    """A learning-rate finder's file as Flair writes it: the rate grows 10x every 8 steps and
    the loss falls, then blows up."""
    lines = ["ITERATION\tTIMESTAMP\tLEARNING_RATE\tTRAIN_LOSS"]
    for step in range(1, rows + 1):
        rate = 1e-6 * 10 ** (step / 8)
        loss = 2.0 - math.log10(rate / 1e-6) / 3 + max(0.0, math.log10(rate) + 2.5) ** 3
        lines.append(f"{step}\t10:00:{step:02d}\t{rate}\t{loss:.4f}")
    return lines


def test_training_curves_from_a_real_run(run_dir, readable_png):
    written = Plotter().plot_training_curves(run_dir / "loss.tsv")
    assert written == run_dir / "training.png"
    readable_png(written)


def test_training_curves_take_a_string_and_named_values(run_dir, readable_png, png_dimensions):
    two_panels = png_dimensions(Plotter().plot_training_curves(run_dir / "loss.tsv"))
    written = Plotter().plot_training_curves(str(run_dir / "loss.tsv"),
                                             plot_values=["loss", "accuracy", "macro_f1"])
    width, height = png_dimensions(written)
    assert width == two_panels[0] and height > 1.3 * two_panels[1]  # a third panel, stacked
    readable_png(written)


def test_weights_from_a_real_run(run_dir, readable_png):
    written = Plotter().plot_weights(run_dir / "weights.txt")
    assert written == run_dir / "weights.png"
    readable_png(written, min_width=1000, min_height=1000)


def test_flair_files_are_plotted(flair_loss_file, write_lines, readable_png):
    loss = flair_loss_file
    weights = write_lines(loss.parent / "weights.txt",
                    *(f"{it}\t{name}\t{i}\t{0.1 * i + 0.01 * it}" for it in (9, 19, 29)
                      for name in ("embeddings.weight", "linear.weight") for i in range(3)))
    plotter = Plotter()
    readable_png(plotter.plot_training_curves(loss))
    readable_png(plotter.plot_weights(weights), min_height=400)


def test_learning_rate_of_a_finder_file(tmp_path, write_lines, readable_png):
    path = write_lines(tmp_path / "learning_rate.tsv", *finder_lines())
    written = Plotter().plot_learning_rate(path)
    assert written == tmp_path / "learning_rate.png"
    readable_png(written, min_width=700, min_height=400)


def test_learning_rate_by_epoch_from_loss_tsv(run_dir, readable_png):
    written = Plotter().plot_learning_rate(run_dir / "loss.tsv", skip_first=0, skip_last=0)
    readable_png(written)


def test_learning_rate_skips_that_leave_nothing_are_an_error(run_dir):
    # Flair's defaults (skip 10 and 5) are meant for a finder's hundred steps, not 8 epochs.
    with pytest.raises(TrainingFileError, match=r"loss.tsv: 8 rows, and skip_first=10, "
                       r"skip_last=5 leave none to plot; pass smaller values"):
        Plotter().plot_learning_rate(run_dir / "loss.tsv")


def test_learning_rate_needs_its_columns(tmp_path, write_lines):
    path = write_lines(tmp_path / "loss.tsv", "EPOCH\tDEV_LOSS", "1\t0.5")
    with pytest.raises(TrainingFileError, match="line 1: expected a LEARNING_RATE column; the "
                                                "header has EPOCH, DEV_LOSS"):
        Plotter().plot_learning_rate(path, skip_first=0, skip_last=0)


def test_plot_draws_what_the_run_folder_has(run_dir, readable_png):
    written = Plotter().plot(run_dir)
    assert written == [run_dir / "training.png", run_dir / "weights.png",
                       run_dir / "learning_rate.png"]
    for path in written:
        readable_png(path)


def test_plot_prefers_a_finder_file_for_the_learning_rate(tmp_path, write_lines):
    write_lines(tmp_path / "learning_rate.tsv", *finder_lines())
    assert Plotter().plot(tmp_path) == [tmp_path / "learning_rate.png"]


def test_plot_of_a_folder_without_run_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no loss.tsv, weights.txt or learning_rate.tsv"):
        Plotter().plot(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing: no such folder"):
        Plotter().plot(tmp_path / "missing")


def test_a_gap_does_not_stop_the_picture(tmp_path, write_lines, readable_png):
    path = write_lines(tmp_path / "loss.tsv",
                 "EPOCH\tTIMESTAMP\tSECONDS\tLEARNING_RATE\tTRAIN_LOSS\tDEV_LOSS\tDEV_SCORE",
                 "1\t10:00:00\t1.00\t0.100000\t2.0\t1.8\t0.4",
                 "2\t10:00:01\t1.00\t0.100000\t1.5\t-\t-",
                 "3\t10:00:02\t1.00\t0.050000\t1.2\t1.1\t0.6")
    readable_png(Plotter().plot_training_curves(path))


def test_registered_and_a_valid_plotter():
    registry = Registry()  # the installed plugins, as `tagkit plot` sees them
    assert registry.resolve("plotter", "training_curves") is Plotter
    assert issubclass(Plotter, PlotterBase)
    assert registry.get("plotter", "training_curves").distribution == "tagkit-plotters"


def test_tagkit_plot_command_with_the_installed_plugin(run_dir):
    result = CliRunner().invoke(main, ["plot", str(run_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [str(run_dir / name) for name in
                                         ("training.png", "weights.png", "learning_rate.png")]


def test_tagkit_plot_reports_a_malformed_file_in_one_line(tmp_path):
    (tmp_path / "loss.tsv").write_text("EPOCH\tTRAIN_LOSS\n1\tlots\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["plot", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {tmp_path / 'loss.tsv'}: line 2: column TRAIN_LOSS holds "
                             "'lots'; expected a number, or '-' for a missing value\n")


def test_importing_the_package_is_cheap_and_plotting_never_uses_pyplot(run_dir):
    code = ("import sys, tagkit_plotters\n"
            "assert 'matplotlib' not in sys.modules and 'torch' not in sys.modules\n"
            f"tagkit_plotters.Plotter().plot({str(run_dir)!r})\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={"PATH": "", **_python_env()})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def _python_env() -> dict[str, str]:
    import os

    # No DISPLAY: a plotter that wanted a window would fail here.
    return {key: value for key, value in os.environ.items() if key != "DISPLAY"}


def test_a_big_model_gets_more_columns_of_weight_panels(tmp_path, write_lines, readable_png,
                                                       png_dimensions):
    small = write_lines(tmp_path / "small" / "weights.txt",
                        *(f"{e}\tlayer{t}.weight\t0\t{0.1 * e}" for e in (1, 2) for t in range(4)))
    big = write_lines(tmp_path / "big" / "weights.txt",
                      *(f"{e}\tlayer{t}.weight\t0\t{0.1 * e}" for e in (1, 2) for t in range(20)))
    small_width, _ = png_dimensions(Plotter().plot_weights(small))
    written = Plotter().plot_weights(big)
    width, height = png_dimensions(written)
    assert width == pytest.approx(small_width * 1.5, rel=0.02)  # three columns, not two
    readable_png(written, min_width=2000, min_height=1500)


def test_every_exported_name_resolves():
    import tagkit_plotters

    assert tagkit_plotters.__all__ == ["Plotter", "TrainingFileError", "__version__"]
    for name in tagkit_plotters.__all__:
        assert getattr(tagkit_plotters, name) is not None and name in dir(tagkit_plotters)
    assert issubclass(tagkit_plotters.TrainingFileError, ValueError)
