"""Models: architectures, model inputs, checkpoints with model cards, training and the two-stage pipeline.

- :mod:`models.registry`: networks by name (``build_model``, ``ARCHITECTURES``) and their tasks;
- :mod:`models.preprocess`: the one place model inputs are made, from the model card's ``InputSpec``;
- :mod:`models.checkpoint`: safetensors weights + JSON ``ModelCard``, verified when loaded;
- :mod:`models.train`: ``python -m models train``: datasets -> leak-checked split -> checkpoint + card,
  from :mod:`models.train_config`, :mod:`models.samples` (records -> samples -> cached inputs),
  :mod:`models.augment`, :mod:`models.epochs` and :mod:`models.run_card`; figures by :mod:`eval.metrics`;
- :mod:`models.pipeline`: ``assess(photo) -> Assessment``: face geometry, affected side, PSPI of the
  unaffected half, from :mod:`models.networks` (jitter-averaged, mirror-consistent wrappers),
  :mod:`models.bundle` (``load_default_models()`` reads ``models/weights/``) and :mod:`models.assessment`
  (the result types);
- :mod:`models.bench`: ``python -m models bench``: cold start and latency beside the earlier app's shape.

Importing the package imports nothing heavy; import the module you need.
"""
