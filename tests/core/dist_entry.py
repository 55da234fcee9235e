"""Entry point for subprocess tests (torchrun -m tests.core.dist_entry): the CLI + test doubles."""

from tests.core import doubles

doubles.register()
doubles.register_benchmarks()

from evalkit.cli import app  # noqa: E402 - the doubles are registered first

if __name__ == "__main__":
    app(prog_name="evalkit")
