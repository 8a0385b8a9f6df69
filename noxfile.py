"""Sessions for the whole repository: ``nox -s tests`` (the default), ``lint``, ``demo``, ``bench``.

Each session installs what it needs into its own virtualenv, so a fresh machine with Python and
pip runs any of them. Sessions that need torch install ``torch==2.13.0`` *first*: that exact
version is a CPU wheel on local disk, and once it is installed the ``torch>=...`` ranges of the
core and the plugins are satisfied, so pip never downloads a multi-gigabyte CUDA build.

Arguments after ``--`` go to the command the session runs (pytest for ``tests``).
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
TORCH = "torch==2.13.0"
# Every plugin distribution in the repo, with the extras the tests and the demo use.
PLUGINS = ["datasets", "embeddings[glove]", "transformers", "crf_tagger", "classifiers",
           "storage", "plotters", "flair_embeddings", "loggers[tensorboard,mlflow]"]

nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"


def install_tagkit(session: nox.Session, core: str = ".", *extra: str) -> None:
    """torch first (the local wheel), then the core and all the plugins, editable, and the
    tagkit-all meta-distribution, so every session proves that it resolves to these folders."""
    session.install(TORCH)
    editable = ["-e", core]
    for plugin in PLUGINS:
        editable += ["-e", f"tagkit_plugins/{plugin}"]
    session.install(*editable, "tagkit_plugins/all", *extra)


def tagkit_env(session: nox.Session) -> dict[str, str]:
    """The data mirror beside the repo and a cache private to the session, unless set."""
    return {
        "TAGKIT_DATASETS_MIRROR": os.environ.get(
            "TAGKIT_DATASETS_MIRROR", str(ROOT.parent / "shared" / "datasets")),
        "TAGKIT_CACHE_DIR": os.environ.get(
            "TAGKIT_CACHE_DIR", str(Path(session.create_tmp()) / "cache")),
    }


@nox.session
def tests(session: nox.Session) -> None:
    """Run the core's and every plugin's tests; a failure, or no test at all, fails."""
    # setuptools and wheel let tests/test_third_party_plugin.py build a plugin offline
    # (pip install --no-build-isolation).
    install_tagkit(session, ".[test]", "setuptools>=77", "wheel")
    # Which tests: pyproject's testpaths (tests/ and tagkit_plugins/*/tests), unless paths are
    # given after "--"; so a bare `pytest` in the repo root runs the same set.
    session.run("pytest", *session.posargs, env=tagkit_env(session))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and the import-linter contracts: the core imports no plugin, no plugin another."""
    # import-linter reads source, it imports nothing: no torch or plugin dependencies needed.
    session.install("ruff==0.17.6", "import-linter==2.17")
    session.install("--no-deps", "-e", ".",
                    *[arg for p in PLUGINS for arg in ("-e", f"tagkit_plugins/{p.split('[')[0]}")])
    session.run("ruff", "check", ".", *session.posargs)
    session.run("lint-imports")


@nox.session
def demo(session: nox.Session) -> None:
    """Train a small part-of-speech tagger and tag a sentence (examples/train_pos.py)."""
    install_tagkit(session)
    session.run("python", "examples/train_pos.py", *session.posargs, env=tagkit_env(session))


@nox.session
def bench(session: nox.Session) -> None:
    """Run the speed/accuracy benchmarks (benchmarks/run_all.py)."""
    install_tagkit(session)
    session.run("python", "benchmarks/run_all.py", *session.posargs, env=tagkit_env(session))
