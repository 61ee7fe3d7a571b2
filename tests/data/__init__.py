"""Tests of cnnlib.data."""
