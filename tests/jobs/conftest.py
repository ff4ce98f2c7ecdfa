"""Alerts and reporting tests: Airflow (imported by the SMTP hook) gets its own home in a temp folder."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="ecoute-airflow-"))
