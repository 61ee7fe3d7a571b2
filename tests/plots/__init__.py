"""Tests of cnnlib.plots."""
