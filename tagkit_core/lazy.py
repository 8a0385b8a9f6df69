"""Lazy package attributes (PEP 562), shared by the core and the plugins.

Importing ``tagkit_core`` or a plugin package must stay cheap (no torch, gensim...), yet users
write ``from tagkit_embeddings import WordEmbeddings``. Each package maps public names to the
module defining them; the class is imported on first access and then cached in the package,
so later look-ups are plain attribute reads. One helper, so every package fails the same way
on an unknown name and ``dir()`` lists the lazy names.

``__version__`` is lazy too: each distribution's version is written once, in its
pyproject.toml, and read from the installed metadata on first access. Reading it eagerly would
cost every ``import`` a scan of the installed distributions (about 0.1 s in a large
environment), for a number most programs never look at.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable

__all__ = ["lazy_attributes", "distribution_version", "UNKNOWN_VERSION"]


#: The version of a distribution that is not installed (a source tree on sys.path).
UNKNOWN_VERSION = "0+unknown"


def distribution_version(distribution: str) -> str:
    """The installed version of ``distribution``, or :data:`UNKNOWN_VERSION`."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return UNKNOWN_VERSION


def lazy_attributes(package: str, namespace: dict[str, Any], names: dict[str, str],
                    distribution: str | None = None
                    ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` whose ``names`` map to modules.

    Use as ``__getattr__, __dir__ = lazy_attributes(__name__, globals(), {...}, "tagkit-x")``;
    with ``distribution``, ``__version__`` is that distribution's installed version.
    """

    def __getattr__(name: str) -> Any:
        if name == "__version__" and distribution is not None:
            namespace[name] = distribution_version(distribution)
            return namespace[name]
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value  # later look-ups skip __getattr__
        return value

    def __dir__() -> list[str]:
        extra = {"__version__"} if distribution is not None else set()
        return sorted(set(namespace) | set(names) | extra)

    return __getattr__, __dir__
