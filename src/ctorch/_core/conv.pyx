# cython: language_level=3
"""ctorch CPU kernels: conv family (placeholder, filled in by its owner)."""
