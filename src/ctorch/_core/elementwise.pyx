# cython: language_level=3
"""ctorch CPU kernels: elementwise family (placeholder, filled in by its owner)."""
