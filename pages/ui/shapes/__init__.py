"""The Shape calculator's inputs, the single-layer calculator, the stack and the quiz."""
