"""A demo step as an app writes one: through the services, on the portfolio it is given."""

from phases import services


def build(*, portfolio, rng) -> str:
    project = portfolio.projects["subscriber-churn-early-warning"]
    draw = rng.random()
    services.task_create(
        phase=project.current_phase, by=project.owner, title=f"Demo step task {draw:.6f}"
    )
    return f"Good step: 1 task on {project.name}, drew {draw:.6f}."
