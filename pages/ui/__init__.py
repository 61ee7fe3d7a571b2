"""Shared frame for every page of CNN Classroom (a subfolder of pages/, so not a page itself)."""
