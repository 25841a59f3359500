"""The build layer: the runner (``runner``), what a result depends on (``inputs``), the results
chapters share (``shared_results``), child processes (``processes``), the site and Sphinx
(``site``, ``sphinx_ready``), the PDF (``pdf``), the edition stamp and buttons (``publication``)
and the benchmarks (``bench_build``, ``bench_text``)."""
