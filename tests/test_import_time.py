"""``import tagkit_core`` and ``tagkit --version`` stay cheap: no torch, plugin or heavy library.

Each check runs in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "gensim", "matplotlib", "numpy")
IMPORT_TIME_TARGET_S = 0.3


def imported_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def heavy_or_plugin(modules: set[str]) -> list[str]:
    tops = {name.split(".")[0] for name in modules}
    return sorted(t for t in tops if t in HEAVY or (t.startswith("tagkit_") and t != "tagkit_core"))


def test_import_imports_no_heavy_library_and_no_plugin():
    modules = imported_after("import tagkit_core\ntagkit_core.hookimpl")
    assert heavy_or_plugin(modules) == []
    assert "tagkit_core.registry" not in modules  # plugins are found on first use only


def test_cli_version_loads_no_plugin():
    modules = imported_after(
        "from tagkit_core.cli import main\n"
        "assert main(['--version'], standalone_mode=False) == 0")
    assert heavy_or_plugin(modules) == []


def import_seconds() -> float:
    """Cumulative microseconds ``-X importtime`` reports for tagkit_core, in seconds."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import tagkit_core"],
                            capture_output=True, text=True, check=True)
    for line in result.stderr.splitlines():
        fields = [field.strip() for field in line.split("|")]
        if len(fields) == 3 and fields[2] == "tagkit_core":
            return int(fields[1]) / 1e6
    raise AssertionError(f"tagkit_core not in -X importtime output:\n{result.stderr}")


def test_import_time_is_under_target():
    # The best of three runs: one slow start on a busy machine is not a regression.
    best = min(import_seconds() for _ in range(3))
    assert best < IMPORT_TIME_TARGET_S, f"import tagkit_core took {best:.3f} s"
