"""Published table layouts of their own (TokBench's), registered in ``catalog.tables``."""
