"""``python -m tagkit_core.cli``: the ``tagkit`` command without its console script."""

from tagkit_core.cli import main

if __name__ == "__main__":
    main(prog_name="tagkit")
