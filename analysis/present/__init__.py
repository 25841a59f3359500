"""The presentation layer: tables as the reader sees them (``tables``), figures, the generated
sentences (``prose``, ``convergence_prose``), the catalogue of tables and figures
(``catalogue``), the city colours (``colours``) and the Reproduce chapter's content
(``reproduce``). Computes nothing: it formats what the layers below return."""
