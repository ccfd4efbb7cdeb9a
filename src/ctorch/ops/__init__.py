"""Differentiable operations: one ``Function`` per op, forward and backward written once
for both devices; kernels are reached only through ``_dispatch.kernels_for``."""
