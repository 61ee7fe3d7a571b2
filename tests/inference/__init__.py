"""Tests of cnnlib.inference."""
