"""cnnlib: the PyTorch library behind CNN Classroom. It never imports streamlit.

Import the submodules you need (cnnlib.kernels, cnnlib.shapes, cnnlib.spec, cnnlib.presets,
cnnlib.data, cnnlib.training, cnnlib.inference, cnnlib.plots, cnnlib.device).
"""
