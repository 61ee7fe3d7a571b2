"""cnnlib: the PyTorch library behind CNN Classroom. It never imports streamlit.

One package per domain, each `__init__` its public face (import from there):

    cnnlib.spec       ModelSpec, build_model, summarize, SpecError, to_pytorch_code, PRESETS
    cnnlib.shapes     the output-size formulas, their explanations, stacks and the quiz
    cnnlib.kernels    KERNELS, apply_kernel, explain_position, images
    cnnlib.data       load_dataset, DatasetBundle, DatasetError (bundled files in data/files/)
    cnnlib.training   TrainConfig, TrainingRun, evaluation; training.one_step: one step in slow motion
    cnnlib.inference  preprocess_drawing, predict, feature_maps, grad_cam, load_pretrained
    cnnlib.plots      Plotly figures, one module per page
    cnnlib.share      page states as links, QR codes, lesson plans (no torch)
    cnnlib.classroom  ClassStore: class sessions, seats, polls, the board (no torch)

and five top-level modules:

    cnnlib.device     the compute device (CUDA, MPS, CPU) in words, without importing torch
    cnnlib.process    the process's malloc settings (arena cap, freed blocks kept)
    cnnlib.glossary   GLOSSARY: the terms every page explains
    cnnlib.terms      glossary terms in a page's text, linked to the Glossary page
    cnnlib.trained    TrainedModel: a trained model's record, which training makes and inference reads

Each package's modules declare `__all__` (what other code uses); the package's `__init__`
star-imports them and its `__all__` is their union, so a name is written once, in its own module.
Importing `cnnlib` itself imports nothing else (no torch), so a page that needs none of it stays light.
"""
