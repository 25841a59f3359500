"""Reproducible re-run of Hai & Klingler-Vidra (2022): Chinese blockchain start-ups as text data.

Dependency direction (DESIGN §5): corpus/simulate -> text -> keyness/classify/convergence
-> tables/figures -> book chapters.  ``build`` knows chapters and parameters only.
"""

__version__ = "0.1.0"
