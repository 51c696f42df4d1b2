"""The two built-in lifecycles, worded from the project's source documents.

The content lives here, not in application code, so that this migration means the same
thing forever; managers edit the loaded templates in the admin.
"""

from django.db import migrations

ML_DEVELOPMENT = {
    "name": "ML development phases",
    "slug": "ml-development-phases",
    "source": "ML development phases: Ideation and planning, Experimentation, Pipeline "
    "building, Productionization.",
    "description": "ML projects progress in phases with specific goals, tasks and outcomes, "
    "often iteratively. Before drafting a design doc or writing code, first verify that ML "
    "is the right solution to the problem.",
    "phases": [
        {
            "name": "Ideation and planning",
            "goal": "To determine if ML is the best solution to your problem.",
            "description": "Frame the problem in terms of an ML solution and estimate the "
            "project's feasibility.",
            "expected_days": 21,
            "tasks": [
                ("Analyze the business problem to understand the project's constraints", "high"),
                ("Verify that ML is the right solution to the problem", "high"),
                ("Agree on the success metric and its target", "medium"),
            ],
            "outcomes": [
                ("A design doc outlining how to solve the problem with an ML solution", "document"),
            ],
        },
        {
            "name": "Experimentation",
            "goal": "To build a model that solves the business problem.",
            "description": "Verify that an ML solution is viable. Finding it is iterative: "
            "hundreds of experiments may come before the right combination of features, "
            "hyperparameters and model architecture.",
            "expected_days": 60,
            "tasks": [
                ("Experiment with features", "high"),
                ("Experiment with hyperparameters", "medium"),
                ("Experiment with model architectures", "medium"),
            ],
            "outcomes": [
                ("A model with good enough quality to put into production", "model"),
            ],
        },
        {
            "name": "Pipeline building",
            "goal": "To build and implement the infrastructure for scaling, monitoring, and "
            "maintaining models in production.",
            "description": "Build pipelines for processing data, training a model and serving "
            "predictions, automating the tasks that keep models up to date in production.",
            "expected_days": 45,
            "tasks": [
                ("Build the data processing pipeline", "high"),
                ("Build the training pipeline", "high"),
                ("Build the serving pipeline", "high"),
            ],
            "outcomes": [("Validated ML pipelines", "pipeline")],
        },
        {
            "name": "Productionization",
            "goal": "To deploy the model and pipelines into production, with the monitoring "
            "and logging needed to maintain them.",
            "description": "Deploy the model and pipelines into production with the "
            "necessary monitoring and logging infrastructure.",
            "expected_days": 30,
            "tasks": [
                ("Deploy the model and pipelines into production", "critical"),
                ("Set up monitoring and logging", "high"),
            ],
            "outcomes": [
                ("Model and pipelines serving in production, monitored and logged", "deployment"),
            ],
        },
    ],
    "transitions": [
        ("Ideation and planning", "Experimentation", "The design doc is accepted."),
        ("Experimentation", "Pipeline building", "A model is good enough for production."),
        ("Pipeline building", "Productionization", "The pipelines are validated."),
        (
            "Experimentation",
            "Ideation and planning",
            "Experiments show ML is not viable as framed.",
        ),
        (
            "Pipeline building",
            "Experimentation",
            "Pipelines reveal the model cannot be served as is.",
        ),
        (
            "Productionization",
            "Experimentation",
            "Production shows drift or poor quality: retrain.",
        ),
        ("Productionization", "Pipeline building", "A pipeline fails in production."),
    ],
}

MLOPS = {
    "name": "MLOps lifecycle",
    "slug": "mlops-lifecycle",
    "source": "The MLOps lifecycle of four stages and seven topics: Scoping, Data, Modeling, "
    "Deployment.",
    "description": "Four stages and seven topics describe the workflow of machine learning in "
    "production. The workflow is a directed graph whose arrows carry dependencies and loop "
    "back, not a circle.",
    "phases": [
        {
            "name": "Scoping",
            "goal": "Define the project: the business goals the ML project serves.",
            "description": "Agree what the project is for and how success is measured.",
            "expected_days": 14,
            "tasks": [("Define project", "high")],
            "outcomes": [("Project definition with business goal and success metric", "document")],
        },
        {
            "name": "Data",
            "goal": "Define the data, establish a baseline, and label and organize the data.",
            "description": "Clean data rarely arrives at once: label a first set, write "
            "labelling guidelines, then check and improve the data.",
            "expected_days": 30,
            "tasks": [
                ("Define data and establish baseline", "high"),
                ("Label and organize data", "high"),
            ],
            "outcomes": [("Labelled, organized data set with a baseline", "dataset")],
        },
        {
            "name": "Modeling",
            "goal": "Select and train a model, and drive its improvement by error analysis.",
            "description": "The inputs are the data, the hyperparameters and the model "
            "architecture. Rather than over-think them, train an initial model and improve it "
            "through error analysis.",
            "expected_days": 45,
            "tasks": [
                ("Select and train model", "high"),
                ("Perform error analysis", "medium"),
            ],
            "outcomes": [("Trained model with its error analysis", "model")],
        },
        {
            "name": "Deployment",
            "goal": "Deploy in production, then monitor and maintain the system.",
            "description": "Design monitoring metrics and dashboards that fit the need, to "
            "catch concept drift and data drift.",
            "expected_days": 30,
            "tasks": [
                ("Deploy in production", "critical"),
                ("Monitor and maintain system", "high"),
            ],
            "outcomes": [
                ("Model in production with drift monitoring and dashboards", "deployment")
            ],
        },
    ],
    "transitions": [
        ("Scoping", "Data", "The project is defined."),
        ("Data", "Modeling", "The data and its baseline are ready."),
        ("Modeling", "Deployment", "The model is good enough to deploy."),
        ("Data", "Scoping", "The data cannot support the scope as defined."),
        ("Modeling", "Scoping", "Error analysis shows the goal must change."),
        ("Modeling", "Data", "Error analysis asks for more or better data."),
        ("Deployment", "Modeling", "Performance drops in production: retrain."),
        ("Deployment", "Data", "Data drift or concept drift in production."),
    ],
}


def load(apps, schema_editor):
    LifecycleTemplate = apps.get_model("phases", "LifecycleTemplate")
    PhaseTemplate = apps.get_model("phases", "PhaseTemplate")
    TaskTemplate = apps.get_model("phases", "TaskTemplate")
    OutcomeTemplate = apps.get_model("phases", "OutcomeTemplate")
    TransitionRule = apps.get_model("phases", "TransitionRule")
    for spec in (ML_DEVELOPMENT, MLOPS):
        lifecycle = LifecycleTemplate.objects.create(
            name=spec["name"],
            slug=spec["slug"],
            description=spec["description"],
            source=spec["source"],
            is_builtin=True,
        )
        by_name = {}
        for order, phase in enumerate(spec["phases"], start=1):
            template = PhaseTemplate.objects.create(
                lifecycle=lifecycle,
                order=order,
                name=phase["name"],
                goal=phase["goal"],
                description=phase["description"],
                expected_days=phase["expected_days"],
            )
            by_name[phase["name"]] = template
            for n, (title, priority) in enumerate(phase["tasks"], start=1):
                TaskTemplate.objects.create(phase=template, order=n, title=title, priority=priority)
            for n, (name, kind) in enumerate(phase["outcomes"], start=1):
                OutcomeTemplate.objects.create(phase=template, order=n, name=name, kind=kind)
        for source, target, description in spec["transitions"]:
            TransitionRule.objects.create(
                source=by_name[source], target=by_name[target], description=description
            )


def unload(apps, schema_editor):
    LifecycleTemplate = apps.get_model("phases", "LifecycleTemplate")
    LifecycleTemplate.objects.filter(slug__in=[ML_DEVELOPMENT["slug"], MLOPS["slug"]]).delete()


class Migration(migrations.Migration):
    dependencies = [("phases", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
