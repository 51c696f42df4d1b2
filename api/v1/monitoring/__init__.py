"""Production monitoring: deployments with their reference, production batches and labels,
monitors, their results and alerts."""
