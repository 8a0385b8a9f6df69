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

The group also owns the exit codes, so each command only raises: a user error is a
``click.ClickException`` (``Error: ...`` on stderr, exit 1), a usage error a
``click.UsageError`` (exit 2, as click does), and any other exception becomes the same one line
``Error: TypeName: message`` and exit 1, with the traceback only under ``tagkit --debug`` (or
``TAGKIT_DEBUG=1``). Ctrl-C exits 130. ``--quiet`` and ``--debug`` are kept in the context's
``meta``; commands read them with :func:`is_quiet` and :func:`is_debug`.

Warnings raised while a command runs (bfloat16 slower than float32 on this CPU, say) print as
one line, ``Warning: message``, on stderr, as errors do; Python's own format (the file, the
line number and the source line of the library that warned) only under ``--debug``.
"""

from __future__ import annotations

import errno
import os
import warnings
from typing import TYPE_CHECKING, Any, TextIO

import click

if TYPE_CHECKING:  # pragma: no cover
    from tagkit_core.registry import Registry


QUIET_KEY = "tagkit.quiet"
DEBUG_KEY = "tagkit.debug"
INTERRUPTED_EXIT = 130


def is_quiet(ctx: click.Context | None = None) -> bool:
    """Whether ``tagkit --quiet`` was given: print results and errors, no progress."""
    ctx = ctx or click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get(QUIET_KEY))


def is_debug(ctx: click.Context | None = None) -> bool:
    """Whether ``tagkit --debug`` (or ``TAGKIT_DEBUG=1``) asks for tracebacks."""
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(DEBUG_KEY):
        return True
    return os.environ.get("TAGKIT_DEBUG", "") not in ("", "0")


def one_line(error: BaseException) -> str:
    """An unexpected exception as one line: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text + (" ..." if len(lines) > 1 else "") + " (run 'tagkit --debug ...' for the " \
        "traceback)"


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
    """``warnings.showwarning`` for the commands: one line on stderr (see the module doc)."""
    if is_debug():  # read when warned: --debug is parsed after the group's invoke begins
        text = warnings.formatwarning(message, category, filename, lineno, line)
    else:
        text = "Warning: " + " ".join(str(message).split())
    click.echo(text.rstrip("\n"), err=True)


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

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn what escapes it into an exit code and one line (see above)."""
        try:
            with warnings.catch_warnings():  # restores Python's showwarning afterwards
                warnings.showwarning = show_warning
                return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(INTERRUPTED_EXIT)
        except OSError as error:
            if error.errno == errno.EPIPE or is_debug(ctx):  # click handles a closed pipe
                raise
            raise click.ClickException(one_line(error)) from None
        except Exception as error:
            if is_debug(ctx):
                raise
            raise click.ClickException(one_line(error)) from None

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
