"""Build step: the protocol cards (``benchmarks/``) ship inside the wheel as ``evalkit/_cards``.

Everything else is configured in pyproject.toml. ``evalkit.cards`` reads the packaged copy first,
then the checkout's ``benchmarks/`` (editable installs).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CARDS = Path(__file__).resolve().parent / "benchmarks"


class BuildPyWithCards(build_py):
    def run(self) -> None:
        super().run()
        if not CARDS.is_dir():  # building from an sdist that lacks them would ship no cards
            raise FileNotFoundError(f"protocol cards folder {CARDS} is missing")
        target = Path(self.build_lib) / "evalkit" / "_cards"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(CARDS, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithCards})
