# cython: language_level=3
"""ctorch CPU kernels: normalization family (placeholder, filled in by its owner)."""
