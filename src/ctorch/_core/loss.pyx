# cython: language_level=3
"""ctorch CPU kernels: loss family (placeholder, filled in by its owner)."""
