"""``python -m evalkit``: the command line, so that ``torchrun -m evalkit run ...`` works."""

from evalkit.cli import app

if __name__ == "__main__":
    app(prog_name="evalkit")
