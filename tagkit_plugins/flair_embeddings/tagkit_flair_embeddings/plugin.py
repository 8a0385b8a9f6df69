"""Entry point of tagkit-flair-embeddings: its embeddings and the ``tagkit convert-lm`` command.

Classes are imported inside the hooks, so discovering the plugin costs nothing until the
registry collects components.
"""

from tagkit_core.hookspecs import hookimpl


@hookimpl
def register_embeddings(register):
    from tagkit_flair_embeddings.flair_embeddings import FlairEmbeddings
    from tagkit_flair_embeddings.pooled import PooledFlairEmbeddings

    register(FlairEmbeddings)
    register(PooledFlairEmbeddings)


@hookimpl
def register_commands(cli):
    from tagkit_flair_embeddings.cli import convert_command

    cli.add_command(convert_command, name="convert-lm")
