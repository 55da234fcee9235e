"""One recorder per official implementation: ``<name>.py`` with ``add_arguments`` and
``record``; ``scripts/record_official_fixtures.py <name>`` runs it. Never imported by evalkit."""
