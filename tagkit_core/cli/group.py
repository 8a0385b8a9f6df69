"""The root click group, which adds plugin commands only when a command is looked up.

``tagkit --version`` is handled while click parses options, before any command is looked up, so
it imports neither torch nor a plugin. Anything that looks commands up (running one, ``--help``,
shell completion) first loads the registry and calls every ``register_commands(cli)``
implementation, each in its own try/except: a plugin whose command hook fails is reported by
``tagkit plugins`` and every other command still works. A plugin cannot replace a built-in
command or another plugin's command; the attempt is undone and reported the same way.

The plugin commands belong to one registry: when the process-wide registry is replaced
(``reset_registry``, as the tests do), the next lookup drops them and asks the new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover
    from tagkit_core.registry import Registry


def load_registry() -> Registry:
    """The process-wide registry, loaded; a duplicate component becomes a clean CLI error."""
    from tagkit_core.registry import DuplicateComponent, get_registry

    try:
        return get_registry()
    except DuplicateComponent as error:
        raise click.ClickException(str(error)) from None


def record_plugin_error(registry: Registry, plugin_name: str, message: str) -> None:
    """Add ``message`` to the errors ``tagkit plugins`` shows for ``plugin_name``."""
    for info in registry.plugins:
        if info.name == plugin_name:
            info.error = f"{info.error}; {message}" if info.error else message
            return


class TagkitGroup(click.Group):
    """A click group whose plugin commands are loaded lazily, once per registry."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._commands_registry: Registry | None = None
        self._plugin_command_names: set[str] = set()
        self._load_failure: str | None = None

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugin_commands()
        if self._load_failure:
            click.echo(f"Warning: plugin commands were not loaded: {self._load_failure}",
                       err=True)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self.load_plugin_commands()
        command = super().get_command(ctx, cmd_name)
        if command is None and self._load_failure:
            raise click.UsageError(f"No such command {cmd_name!r}; plugin commands were not "
                                   f"loaded: {self._load_failure}", ctx)
        return command

    def load_plugin_commands(self) -> None:
        """Call every ``register_commands`` implementation of the current registry, once."""
        from tagkit_core.registry import DuplicateComponent, get_registry

        try:
            registry = get_registry()
        except DuplicateComponent as error:
            self._drop_plugin_commands()
            self._load_failure = str(error)
            return
        if registry is self._commands_registry:
            return
        self._drop_plugin_commands()
        self._load_failure = None
        self._commands_registry = registry
        for impl in registry.pm.hook.register_commands.get_hookimpls():
            before = dict(self.commands)
            try:
                impl.function(*[{"cli": self}[arg] for arg in impl.argnames])
            except Exception as error:  # one plugin's command must not break the others
                record_plugin_error(registry, impl.plugin_name,
                                    f"register_commands failed: {type(error).__name__}: {error}")
            for name, command in before.items():
                if self.commands.get(name) is not command:
                    self.commands[name] = command
                    record_plugin_error(registry, impl.plugin_name,
                                        f"register_commands tried to replace the command {name!r}")
            self._plugin_command_names.update(set(self.commands) - set(before))

    def _drop_plugin_commands(self) -> None:
        for name in self._plugin_command_names:
            self.commands.pop(name, None)
        self._plugin_command_names.clear()
        self._commands_registry = None
