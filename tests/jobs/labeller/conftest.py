"""The labeller's tests never read or write the user's labeller state (models from feedback, centring)."""

from __future__ import annotations

import os
import tempfile

# Set before any Labeller is built (and inherited by the `ecoute` subprocesses): the packaged model,
# fresh centring statistics. Tests that need a state of their own pass ECOUTE_LABELLER_DIR explicitly.
os.environ.setdefault("ECOUTE_LABELLER_DIR", tempfile.mkdtemp(prefix="ecoute-labeller-tests-"))
