"""The edge where the chapters call the package: the results several chapters share, computed
once per build (``shared``), and the convergence verdict the convergence, validation and policy
pages state (``verdict``). The one layer that may memoise: the science below it computes and
knows nothing of caches."""
