"""Experiment tracking in ``/api/v1/``: experiments and runs to read, a run's metric series
for charts, one metric compared across runs, and the bulk metric upload.

Tools log through the MLflow API; these endpoints are for pages, notebooks and exporters.
A run is addressed by its MLflow run id (32 hex digits) in the ``{id}`` of its URLs, the id
every tool already knows. Reading needs the viewer role on the run's project and uploading
the contributor role; an outsider gets 404, exactly as for a run that does not exist.
"""
