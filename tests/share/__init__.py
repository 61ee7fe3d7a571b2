"""Tests of cnnlib.share and the pages link schemas."""
