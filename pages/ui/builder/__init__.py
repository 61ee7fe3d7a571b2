"""The Model builder's state and actions, the layer editor and the views (table, diagram, code)."""
