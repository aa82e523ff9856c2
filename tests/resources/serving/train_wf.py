"""A task that fits a small regression model and emits it as the artifact `regressor`."""

from pathlib import Path
from typing import Annotated

import joblib
import plait
from sklearn.datasets import make_regression
from sklearn.linear_model import LinearRegression

Regressor = plait.Artifact(name="regressor")


@plait.task
def fit_regressor(samples: int = 60) -> Annotated[plait.FlyteFile, Regressor]:
    features, target = make_regression(n_samples=samples, n_features=2, noise=0.0, random_state=7)
    model = LinearRegression().fit(features, target)
    path = Path(plait.current_context().working_directory) / "regressor.joblib"
    joblib.dump(model, path)
    return plait.FlyteFile(str(path))
