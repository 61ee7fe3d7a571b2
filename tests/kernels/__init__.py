"""Tests of cnnlib.kernels."""
