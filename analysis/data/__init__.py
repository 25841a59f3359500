"""The data layer: reading a corpus (``corpus``), simulating one (``simulate``), website snapshots
(``snapshot``, ``collect``), the investor coder (``investors``) and the sourced fact tables
(``facts``). Imports only the shared leaves of the package (paths, labels, defaults, params)."""
