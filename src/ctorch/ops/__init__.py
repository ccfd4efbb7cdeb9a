"""Differentiable operations: one ``Function`` per op, forward and backward written once
for both devices; kernels are reached only through ``ctorch._backend.kernels_for``."""
