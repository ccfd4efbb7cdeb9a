# cython: language_level=3
"""ctorch CPU kernels: nnmisc family (placeholder, filled in by its owner)."""
