"""Lazy package attributes (PEP 562), shared by the core and the plugins.

Importing ``tagkit_core`` or a plugin package must stay cheap (no torch, gensim...), yet users
write ``from tagkit_embeddings import WordEmbeddings``. Each package maps public names to the
module defining them; the class is imported on first access and then cached in the package,
so later look-ups are plain attribute reads. One helper, so every package fails the same way
on an unknown name and ``dir()`` lists the lazy names.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, namespace: dict[str, Any], names: dict[str, str]
                    ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` whose ``names`` map to modules.

    Use as ``__getattr__, __dir__ = lazy_attributes(__name__, globals(), {...})``.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value  # later look-ups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
