"""``{% sweeps_section project %}``: the sweeps section of a project page, read by its own
selector (one query) so the page's view stays as it is."""

from django import template

from dashboard.selectors.sweeps import project_sweeps
from phases.roles import Action, allows

register = template.Library()


@register.inclusion_tag("dashboard/sweeps/_section.html", takes_context=True)
def sweeps_section(context, project) -> dict:
    return {
        "project": project,
        "rows": project_sweeps(project=project),
        "can_start": allows(getattr(project, "caller_role", None), Action.LOG_DATA),
        "request": context.get("request"),
    }
