"""The root click group, which adds plugin commands only when a command is looked up.

``tagkit --version`` is handled while click parses options, before any command is looked up, so
it imports neither torch nor a plugin. Anything that looks commands up (running one, ``--help``,
shell completion) first loads the registry and calls every ``register_commands(cli)``
implementation, each on its own through pluggy and in its own try/except: a plugin whose command
hook raises (anything but ``KeyboardInterrupt``) is reported by ``tagkit plugins`` and every
other command still works. A plugin cannot replace a built-in command or another plugin's
command; the attempt is undone and reported the same way.

The plugin commands belong to one registry: when the process-wide registry is replaced
(``reset_registry``, as the tests do), the next lookup drops them and asks the new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover
    from tagkit_core.registry import Registry


def load_registry() -> Registry:
    """The process-wide registry, loaded. Loading never fails because of a plugin: broken
    plugins and duplicate names are recorded in it, for the commands to show."""
    from tagkit_core.registry import get_registry

    return get_registry()


def record_plugin_error(registry: Registry, plugin_name: str, message: str) -> None:
    """Add ``message`` to the errors ``tagkit plugins`` shows for ``plugin_name``."""
    info = registry.plugin_info(plugin_name)
    if info is not None:
        info.add_error(message)


class TagkitGroup(click.Group):
    """A click group whose plugin commands are loaded lazily, once per registry."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._commands_registry: Registry | None = None
        self._plugin_command_names: set[str] = set()

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self.load_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def load_plugin_commands(self) -> None:
        """Call every ``register_commands`` implementation of the current registry, once.

        Each plugin's implementation is called on its own, through pluggy, so tracing shows it
        and the command table can be checked after each one.
        """
        from tagkit_core.plugins import describe_error, each_implementation
        from tagkit_core.registry import get_registry

        registry = get_registry()
        if registry is self._commands_registry:
            return
        self._drop_plugin_commands()
        self._commands_registry = registry
        for plugin_name, call in each_implementation(registry.pm, "register_commands"):
            before = dict(self.commands)
            try:
                call(cli=self)
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # one plugin's command must not break the others
                record_plugin_error(registry, plugin_name,
                                    f"register_commands failed: {describe_error(error)}")
            for name, command in before.items():
                if self.commands.get(name) is not command:
                    self.commands[name] = command
                    record_plugin_error(registry, plugin_name,
                                        f"register_commands tried to replace the command {name!r}")
            self._plugin_command_names.update(set(self.commands) - set(before))

    def _drop_plugin_commands(self) -> None:
        for name in self._plugin_command_names:
            self.commands.pop(name, None)
        self._plugin_command_names.clear()
        self._commands_registry = None
