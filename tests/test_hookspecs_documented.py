"""Every hook is documented, in its docstring and in docs/plugins.md (datasette's test_docs).

A hook added to ``tagkit_core.hookspecs`` without a docstring and a ``### hook(args)`` section in
the plugin author guide fails here, so the guide cannot drift from the contract.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tagkit_core import hookspecs
from tagkit_core.registry import KINDS, Registry

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
SPECS = {name: fn for name, fn in vars(hookspecs).items()
         if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT}_spec")}


def guide_headings() -> dict[str, str]:
    """``{hook name: "name(args)"}`` for each ``### name(args)`` heading of the guide."""
    found = re.findall(r"^###\s+`?(([a-z_]+)\(([^)]*)\))`?\s*$", GUIDE.read_text(), re.M)
    return {name: f"{name}({args})" for _, name, args in found}


def signature_heading(name: str) -> str:
    return f"{name}({', '.join(inspect.signature(SPECS[name]).parameters)})"


def test_the_spec_list_is_what_pluggy_sees():
    pm_hooks = {name for name in dir(Registry(entry_points=[], default_plugins=()).pm.hook)
                if not name.startswith("_")}
    assert set(SPECS) == pm_hooks
    assert {hook for hook, _ in KINDS.values()} <= set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_has_a_docstring_naming_only_real_arguments(name):
    doc = inspect.getdoc(SPECS[name])
    assert doc and doc.strip(), f"hookspec {name} has no docstring"
    params = set(inspect.signature(SPECS[name]).parameters)
    documented = set(re.findall(r":param (\w+):", doc))
    assert documented <= params, f"{name} documents arguments it does not take"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_has_a_section_in_the_plugin_guide(name):
    headings = guide_headings()
    assert name in headings, f"docs/plugins.md has no '### {signature_heading(name)}' section"
    assert headings[name] == signature_heading(name), "the guide's arguments differ from the spec"


def test_the_guide_documents_no_hook_that_does_not_exist():
    assert set(guide_headings()) <= set(SPECS)
