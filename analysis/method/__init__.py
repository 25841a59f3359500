"""The method layer: the convergence estimate (``convergence``), its decision rule
(``convergence_rule``), the coder's error (``coder_error``), resampling, the simulation study
(``validation``) and the verdict (``verdict``). Imports the text and data layers and the shared
leaves; no cache, build or presentation module."""
