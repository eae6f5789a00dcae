"""Cross-run tables and plots: read finished run directories (``metrics.csv``, ``summary.json``) and write
Markdown tables and PNG plots. ``python -m oppshape.report <command> ...``; one module per report, each
exposing ``register(subparsers)``.
"""
