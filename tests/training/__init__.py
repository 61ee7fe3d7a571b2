"""Tests of cnnlib.training."""
