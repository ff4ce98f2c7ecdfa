"""Pieces of the toxicity stage (the entry point is :mod:`jobs.labeller.toxic`).

- :mod:`.deobfuscate`: undo leet, spaced-out letters and one-letter typos before matching;
- :mod:`.hate`: identity-group lexicons × derogation / dehumanisation / threat / emotion templates,
  with negation and counter-speech handling (data in ``jobs/labeller/resources/toxicity/``);
- :mod:`.head`: the learned logistic head on the labeller's e5 embeddings (``artefacts/toxicity_head.npz``).
"""
