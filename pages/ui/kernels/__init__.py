"""The Kernels page's controls (image, kernel, layer settings) and views (maps, step-through, compare)."""
