"""The hostile-file tests share a fixture generator, ``hostile_files.py`` beside this file.

Tests run with ``--import-mode=importlib``, which puts no test folder on ``sys.path``; this
folder is added so the test modules can import the generator by name.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
