"""Benchmark definitions: registered factories returning runnable benchmarks with frozen specs."""
