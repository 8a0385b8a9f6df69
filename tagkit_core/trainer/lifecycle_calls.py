"""Temporary: the trainer's lifecycle hook calls (replaced by tagkit_core.lifecycle at merge)."""

from __future__ import annotations

from typing import Any, Sequence


class RunHooks:
    def __init__(self, registry: Any, plugins: Sequence[Any]) -> None:
        self.pm = registry.pm
        self.failures: list[Any] = []
        self._added = [p for p in plugins if not self.pm.is_registered(p)]
        for plugin in self._added:
            self.pm.register(plugin)

    def call(self, name: str, **kwargs: Any) -> None:
        getattr(self.pm.hook, name)(**kwargs)

    def close(self) -> None:
        for plugin in self._added:
            self.pm.unregister(plugin)
