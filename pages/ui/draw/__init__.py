"""Draw & predict: the canvas and upload inputs, and the views of the answer."""
