"""The lifecycle resources of ``/api/v1/``: lifecycles, projects, memberships, phases,
tasks, outcomes and transitions, with the lifecycle verbs as POST actions."""
