"""A small Panel page: churn scores above a threshold the reader picks."""

import json
import os
from pathlib import Path

import panel as pn

thresholds = json.loads((Path(__file__).parent / "data" / "thresholds.json").read_text())
region = os.environ.get("SCORES_REGION", "eu")
cutoff = pn.widgets.FloatSlider(name="cutoff", start=0.0, end=1.0, value=thresholds[region])
pn.Column(f"# Churn scores ({region})", cutoff,
          pn.bind(lambda c: f"customers above {c:.2f}", cutoff)).servable()
