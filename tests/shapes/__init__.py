"""Tests of cnnlib.shapes."""
