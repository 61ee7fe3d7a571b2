"""cnnlib: the PyTorch library behind CNN Classroom. It never imports streamlit.

Import the submodules you need. The public faces (the names in the design's contract) are
cnnlib.shapes, cnnlib.kernels, cnnlib.spec, cnnlib.spec.presets, cnnlib.data, cnnlib.training and
cnnlib.inference; flat modules beside them do most of the work (spec, data, one_step and
inference re-export theirs; see the README's architecture table). Figures are in the cnnlib.plots modules.
"""
