"""The text layer: tokens and the document-term matrix (``preprocess``), key terms (``keyness``),
the business-model coders (``classify``, ``naive_bayes``) and the check sets (``checkset``).
Imports the data layer and the shared leaves; no cache, build or presentation module."""
