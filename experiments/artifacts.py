"""Where artifacts live on disk: one folder an experiment under
``MLPROJECTS_ARTIFACT_ROOT/<project id>/<experiment id>/``, where MLflow's server puts them,
so the client's URIs map one to one. The artifacts proxy (``api.mlflow.artifacts``) and the
reference data of monitors (``monitoring.reference``) both read the layout here."""

import pathlib

from django.conf import settings

from experiments.models import Experiment, Run


def experiment_folder(experiment: Experiment) -> pathlib.Path:
    return (
        pathlib.Path(settings.MLPROJECTS_ARTIFACT_ROOT)
        / str(experiment.project_id)
        / str(experiment.pk)
    )


def run_folder(run: Run) -> pathlib.Path:
    """``<experiment folder>/<run id>/artifacts``; expects ``run.experiment`` loaded."""
    return experiment_folder(run.experiment) / run.run_id / "artifacts"
