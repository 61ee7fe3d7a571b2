"""Tests of cnnlib.spec."""
