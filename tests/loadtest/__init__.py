"""Tests of the load test's tools."""
