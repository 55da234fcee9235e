"""Model adapters: one module per family, each with ``card(id)`` and ``build(id, **options)``."""
