"""The model registry: registered models, their versions with aliases and model cards, and
the deployment events that moving a project's production alias records."""
