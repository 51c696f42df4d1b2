"""The demo portfolio, written as data: the people, and the story of each project.

``manage.py demo_data`` replays every project through the lifecycle services, so each spec
says what happened (how long each phase took, why a project looped back) and what its active
phase looks like today. Days count back from the day the command runs, so the demo never
goes stale: a phase "due in 9 days" is due in 9 days whenever the demo is loaded.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from phases.choices import MetricDirection, Priority, ReviewStatus, Role, TaskStatus

ML_DEVELOPMENT = "ml-development-phases"
MLOPS = "mlops-lifecycle"

MANAGER, CONTRIBUTOR, VIEWER = Role.MANAGER, Role.CONTRIBUTOR, Role.VIEWER
TODO, IN_PROGRESS, BLOCKED, DONE = (
    TaskStatus.TODO,
    TaskStatus.IN_PROGRESS,
    TaskStatus.BLOCKED,
    TaskStatus.DONE,
)
HIGHER, LOWER = MetricDirection.MAXIMIZE, MetricDirection.MINIMIZE


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    about: str
    superuser: bool = False
    # Opens the admin, where they see the projects they manage.
    staff: bool = False


@dataclass(frozen=True)
class Advance:
    """The phase's tasks were done and its outcomes accepted; the project moved on."""

    days: int
    reason: str = ""


@dataclass(frozen=True)
class MoveBack:
    """The phase's work was done, then new evidence sent the project back to ``to``."""

    to: str
    days: int
    reason: str


@dataclass(frozen=True)
class Complete:
    """The last phase's work was done and its outcomes accepted; the project finished."""

    days: int
    reason: str = ""


@dataclass(frozen=True)
class TaskNow:
    """A task of the active phase today: ``title`` is a distinctive part of a template
    task's title, or with ``new`` the whole title of a task the team added."""

    title: str
    status: str = TODO
    assignee: str = ""
    due_in_days: int | None = None
    new: bool = False
    priority: str = Priority.MEDIUM


@dataclass(frozen=True)
class OutcomeNow:
    """An outcome of the active phase today; ``name`` is a distinctive part of its name."""

    name: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class ProjectSpec:
    name: str
    slug: str
    lifecycle: str
    description: str
    owner: str
    team: Mapping[str, str]
    metric: str
    target: float
    direction: str
    started_days_ago: int
    # When the active phase is due, in days from today; ``None`` keeps it on plan: as long
    # as it was planned, from the day it really started. Both ends of a phase count, so a
    # 21-day phase started 12 days ago is due in 8 days, not 9: leave on-plan dates to this.
    due_in_days: int | None = None
    history: tuple[Advance | MoveBack | Complete, ...] = ()
    metric_label: str = ""
    # Distinctive parts of outcome names the sponsor agreed to do without (not required).
    waived: tuple[str, ...] = ()
    tasks: tuple[TaskNow, ...] = ()
    outcomes: tuple[OutcomeNow, ...] = ()


# The four accounts people log in with, one per way of using the app.
LOGIN_USERS = (
    Person("admin", "Avery", "Admin", "project management office", superuser=True),
    Person("manager", "Morgan", "Hayes", "ML programme manager", staff=True),
    Person("contributor", "Chris", "Doyle", "ML engineer"),
    Person("viewer", "Valerie", "Stone", "business sponsor"),
)

TEAM = (
    Person("priya.raman", "Priya", "Raman", "head of applied ML"),
    Person("marco.bianchi", "Marco", "Bianchi", "ML lead, forecasting and risk"),
    Person("amara.okafor", "Amara", "Okafor", "ML lead, logistics and vision"),
    Person("sofia.novak", "Sofia", "Novak", "senior data scientist"),
    Person("lukas.schmidt", "Lukas", "Schmidt", "ML engineer"),
    Person("mei.chen", "Mei", "Chen", "data engineer"),
    Person("diego.alvarez", "Diego", "Alvarez", "MLOps engineer"),
    Person("kenji.watanabe", "Kenji", "Watanabe", "product owner"),
)

PORTFOLIO = (
    ProjectSpec(
        name="Subscriber churn early warning",
        slug="subscriber-churn-early-warning",
        lifecycle=ML_DEVELOPMENT,
        description="Flag subscribers likely to cancel in the next 60 days so the retention "
        "team calls them first. Today the team calls a random 5% of renewals; the sponsor "
        "wants those calls spent where they change the outcome.",
        owner="priya.raman",
        team={
            "manager": MANAGER,
            "amara.okafor": CONTRIBUTOR,
            "contributor": CONTRIBUTOR,
            "viewer": VIEWER,
            "kenji.watanabe": VIEWER,
        },
        metric="val_auc",
        target=0.85,
        metric_label="Churners ranked above stayers (ROC AUC)",
        direction=HIGHER,
        started_days_ago=12,
        tasks=(
            TaskNow("business problem", DONE, "priya.raman"),
            TaskNow("right solution", IN_PROGRESS, "amara.okafor"),
            TaskNow("success metric", TODO, "contributor"),
        ),
    ),
    ProjectSpec(
        name="Fresh produce demand forecasting",
        slug="fresh-produce-demand-forecasting",
        lifecycle=ML_DEVELOPMENT,
        description="Forecast daily demand per store for 1,800 fresh-produce items, 14 days "
        "ahead, so orders cut waste without emptying shelves. The baseline, last year's "
        "sales with a seasonal index, has a WAPE of 0.27.",
        owner="marco.bianchi",
        team={
            "sofia.novak": CONTRIBUTOR,
            "mei.chen": CONTRIBUTOR,
            "contributor": CONTRIBUTOR,
            "viewer": VIEWER,
        },
        metric="val_wape",
        metric_label="Forecast error across items (WAPE)",
        target=0.18,
        direction=LOWER,
        started_days_ago=70,
        due_in_days=12,
        history=(
            Advance(19, "Design doc accepted: forecasts per store, item and day, scored by WAPE."),
        ),
        tasks=(
            TaskNow("features", DONE, "sofia.novak"),
            TaskNow("hyperparameters", IN_PROGRESS, "contributor", due_in_days=-4),
            TaskNow("architectures", TODO, "mei.chen"),
        ),
    ),
    ProjectSpec(
        name="Card fraud detection",
        slug="card-fraud-detection",
        lifecycle=ML_DEVELOPMENT,
        description="Score every card payment in under 50 ms and hold the riskiest for "
        "review. Live since the spring; chargebacks fell by a third until the new checkout "
        "changed the mix of payments. Retraining waits for six weeks of post-launch "
        "chargeback labels.",
        owner="marco.bianchi",
        team={
            "manager": MANAGER,
            "lukas.schmidt": CONTRIBUTOR,
            "diego.alvarez": CONTRIBUTOR,
            "mei.chen": CONTRIBUTOR,
            "contributor": CONTRIBUTOR,
            "viewer": VIEWER,
            "kenji.watanabe": VIEWER,
        },
        metric="val_pr_auc",
        metric_label="Fraud caught per false alarm (PR AUC)",
        target=0.60,
        direction=HIGHER,
        started_days_ago=235,
        due_in_days=30,
        history=(
            Advance(18, "Design doc accepted; payments risk approved the review-queue budget."),
            Advance(64, "Gradient-boosted trees reach val_pr_auc 0.66 on the holdout month."),
            Advance(41, "Feature, training and scoring pipelines validated in staging."),
            MoveBack(
                "Experimentation",
                96,
                "Data drift after the new checkout launched: wallet payments went from 9% to "
                "31% of volume, PSI on merchant_category reached 0.31 and weekly precision at "
                "1% fell from 0.62 to 0.41. Retrain on post-launch data and rework the device "
                "features.",
            ),
        ),
        tasks=(
            TaskNow(
                "Backfill six weeks of post-launch chargeback labels",
                BLOCKED,
                "mei.chen",
                new=True,
                priority=Priority.HIGH,
            ),
            TaskNow("features", IN_PROGRESS, "lukas.schmidt"),
            TaskNow("hyperparameters", TODO, "contributor"),
            TaskNow("architectures", TODO, "diego.alvarez"),
        ),
    ),
    ProjectSpec(
        name="Support ticket routing",
        slug="support-ticket-routing",
        lifecycle=ML_DEVELOPMENT,
        description="Route incoming support tickets to the right one of 23 queues from the "
        "subject and first message, in English, German and Spanish. A misrouted ticket "
        "waits nine hours longer on average.",
        owner="priya.raman",
        team={
            "mei.chen": CONTRIBUTOR,
            "lukas.schmidt": CONTRIBUTOR,
            "contributor": CONTRIBUTOR,
            "kenji.watanabe": VIEWER,
        },
        metric="val_macro_f1",
        target=0.80,
        direction=HIGHER,
        started_days_ago=96,
        due_in_days=15,
        history=(
            Advance(16),
            Advance(52, "Fine-tuned multilingual transformer: val_macro_f1 0.84 against 0.80."),
        ),
        tasks=(
            TaskNow("data processing", DONE, "mei.chen"),
            TaskNow("training pipeline", IN_PROGRESS, "lukas.schmidt"),
            TaskNow("serving pipeline", TODO, "contributor"),
        ),
    ),
    ProjectSpec(
        name="Delivery ETA prediction",
        slug="delivery-eta-prediction",
        lifecycle=ML_DEVELOPMENT,
        description="Predict door-to-door delivery time when an order is placed and update "
        "it as the courier moves. The serving pipeline is stuck: the streaming feature "
        "store answers in 180 ms at p99, over the 50 ms budget.",
        owner="amara.okafor",
        team={
            "mei.chen": CONTRIBUTOR,
            "lukas.schmidt": CONTRIBUTOR,
            "diego.alvarez": CONTRIBUTOR,
            "viewer": VIEWER,
        },
        metric="val_mae_minutes",
        metric_label="Average ETA error, minutes",
        target=4.5,
        direction=LOWER,
        started_days_ago=157,
        due_in_days=-24,
        history=(
            Advance(20),
            Advance(71, "LightGBM on route and kitchen-load features: MAE 4.1 min on holdout."),
        ),
        tasks=(
            TaskNow("data processing", DONE, "mei.chen"),
            TaskNow("training pipeline", DONE, "lukas.schmidt"),
            TaskNow("serving pipeline", BLOCKED, "diego.alvarez"),
            TaskNow(
                "Cut the streaming feature store's p99 latency under 50 ms",
                IN_PROGRESS,
                "mei.chen",
                new=True,
                priority=Priority.HIGH,
            ),
        ),
    ),
    ProjectSpec(
        name="Product recommendations",
        slug="product-recommendations",
        lifecycle=ML_DEVELOPMENT,
        description="Personalised 'you may also like' rows on the home and product pages, "
        "replacing the best-seller list. A two-tower retrieval model feeds a ranker; the "
        "launch runs as a 10% A/B test first.",
        owner="manager",
        team={
            "priya.raman": MANAGER,
            "sofia.novak": CONTRIBUTOR,
            "diego.alvarez": CONTRIBUTOR,
            "contributor": CONTRIBUTOR,
            "viewer": VIEWER,
            "kenji.watanabe": VIEWER,
        },
        metric="val_ndcg_at_10",
        target=0.32,
        direction=HIGHER,
        started_days_ago=158,
        due_in_days=10,
        history=(
            Advance(23),
            Advance(66, "Two-tower retrieval plus ranker: val_ndcg_at_10 0.35."),
            Advance(47, "Nightly retraining and feature backfill ran green for two weeks."),
        ),
        tasks=(
            TaskNow("Deploy", DONE, "diego.alvarez"),
            TaskNow("monitoring", DONE, "contributor"),
        ),
        outcomes=(OutcomeNow("production", ReviewStatus.SUBMITTED),),
    ),
    ProjectSpec(
        name="Invoice field extraction",
        slug="invoice-field-extraction",
        lifecycle=ML_DEVELOPMENT,
        description="Read supplier, amounts, VAT and due date from scanned and PDF invoices "
        "so accounts payable stops retyping them: 40,000 invoices a month, with "
        "low-confidence fields sent to a person.",
        owner="lukas.schmidt",
        team={
            "diego.alvarez": CONTRIBUTOR,
            "mei.chen": CONTRIBUTOR,
            "viewer": VIEWER,
        },
        metric="val_field_f1",
        target=0.93,
        direction=HIGHER,
        started_days_ago=159,
        due_in_days=-6,
        history=(
            Advance(14),
            Advance(58, "Layout-aware transformer: val_field_f1 0.95 on 3,000 invoices."),
            Advance(50),
        ),
        tasks=(
            TaskNow("Deploy", DONE, "diego.alvarez"),
            TaskNow("monitoring", IN_PROGRESS, "diego.alvarez"),
        ),
    ),
    ProjectSpec(
        name="Call centre speech analytics",
        slug="call-centre-speech-analytics",
        lifecycle=MLOPS,
        description="Transcribe and tag customer calls (reason for calling, complaint, "
        "intent to cancel) so the service team sees trends within a day instead of "
        "sampling 1% of calls by hand.",
        owner="amara.okafor",
        team={"sofia.novak": CONTRIBUTOR, "kenji.watanabe": VIEWER},
        metric="val_wer",
        target=0.12,
        direction=LOWER,
        started_days_ago=5,
        tasks=(TaskNow("Define project", IN_PROGRESS, "amara.okafor"),),
    ),
    ProjectSpec(
        name="Retail shelf image recognition",
        slug="retail-shelf-image-recognition",
        lifecycle=MLOPS,
        description="Detect out-of-stock gaps and misplaced products in the photos store "
        "staff take with the shelf app: 600 stores, about 9,000 photos a day.",
        owner="amara.okafor",
        team={
            "manager": MANAGER,
            "sofia.novak": CONTRIBUTOR,
            "contributor": CONTRIBUTOR,
            "kenji.watanabe": VIEWER,
        },
        metric="val_map50",
        target=0.75,
        direction=HIGHER,
        started_days_ago=38,
        due_in_days=8,
        history=(Advance(12, "Scope agreed with retail operations: 40 categories first."),),
        tasks=(
            TaskNow("baseline", DONE, "sofia.novak"),
            TaskNow("Label", IN_PROGRESS, "contributor"),
        ),
        outcomes=(
            OutcomeNow(
                "data set",
                ReviewStatus.REJECTED,
                "Inter-annotator agreement on promo facings is 0.71, below the 0.85 we agreed. "
                "Revise the labelling guideline and relabel those 2,300 images.",
            ),
        ),
    ),
    ProjectSpec(
        name="Wind turbine predictive maintenance",
        slug="wind-turbine-predictive-maintenance",
        lifecycle=MLOPS,
        description="Estimate the remaining useful life of gearbox bearings from SCADA "
        "vibration and temperature signals, so crews replace parts in planned weather "
        "windows instead of after failures.",
        owner="priya.raman",
        team={
            "lukas.schmidt": CONTRIBUTOR,
            "sofia.novak": CONTRIBUTOR,
            "viewer": VIEWER,
        },
        metric="val_rul_rmse_days",
        target=12.0,
        direction=LOWER,
        started_days_ago=70,
        due_in_days=24,
        history=(
            Advance(15),
            Advance(34, "Baseline set: a physics-based degradation curve gives RMSE 21 days."),
        ),
        tasks=(
            TaskNow("train model", IN_PROGRESS, "lukas.schmidt"),
            TaskNow("error analysis", TODO, "sofia.novak"),
        ),
    ),
    ProjectSpec(
        name="Credit limit risk scoring",
        slug="credit-limit-risk-scoring",
        lifecycle=MLOPS,
        description="Score the probability that a customer defaults within 12 months of a "
        "credit-limit increase, replacing a 2016 scorecard. Every decision must come with "
        "reasons a regulator can read.",
        owner="sofia.novak",
        team={
            "marco.bianchi": MANAGER,
            "mei.chen": CONTRIBUTOR,
            "contributor": CONTRIBUTOR,
            "kenji.watanabe": VIEWER,
        },
        metric="val_auc",
        target=0.78,
        direction=HIGHER,
        started_days_ago=142,
        due_in_days=5,
        history=(
            Advance(13),
            Advance(31, "Baseline: the 2016 scorecard scores val_auc 0.71 on 2023 outcomes."),
            MoveBack(
                "Data",
                38,
                "Error analysis: 41% of false negatives are thin-file applicants with under "
                "six months of history, only 3% of the training data. Add the bureau's "
                "alternative-data feed.",
            ),
            Advance(27, "Alternative-data feed joined; thin-file applicants now 11% of rows."),
        ),
        tasks=(
            TaskNow("train model", DONE, "contributor"),
            TaskNow("error analysis", IN_PROGRESS, "sofia.novak", due_in_days=-25),
        ),
    ),
    ProjectSpec(
        name="Grid load forecasting",
        slug="grid-load-forecasting",
        lifecycle=MLOPS,
        description="Forecast hourly electricity load per substation for the next 48 hours, "
        "feeding the dispatch planning tool. In production since the summer, watched for "
        "drift in the weather inputs.",
        owner="manager",
        team={
            "diego.alvarez": CONTRIBUTOR,
            "lukas.schmidt": CONTRIBUTOR,
            "viewer": VIEWER,
        },
        metric="val_mape",
        metric_label="Hourly load forecast error (MAPE)",
        target=0.05,
        direction=LOWER,
        started_days_ago=136,
        due_in_days=36,
        history=(
            Advance(10),
            Advance(28),
            Advance(44, "Temporal fusion transformer: MAPE 3.9% on the winter holdout."),
        ),
        tasks=(
            TaskNow("Deploy", DONE, "diego.alvarez"),
            TaskNow("Monitor", DONE, "diego.alvarez"),
        ),
        outcomes=(OutcomeNow("production", ReviewStatus.ACCEPTED),),
    ),
    ProjectSpec(
        name="Email send-time optimisation",
        slug="email-send-time-optimisation",
        lifecycle=ML_DEVELOPMENT,
        description="Send each marketing email at the hour its recipient most often opens "
        "mail, instead of 9:00 for everyone. Finished: in the A/B test on every newsletter, "
        "opens rose 11%; the marketing platform's own dashboards watch it now.",
        owner="marco.bianchi",
        team={
            "sofia.novak": CONTRIBUTOR,
            "contributor": CONTRIBUTOR,
            "viewer": VIEWER,
            "kenji.watanabe": VIEWER,
        },
        metric="val_open_rate_lift",
        metric_label="Open-rate lift over 9:00 sends",
        target=0.08,
        direction=HIGHER,
        started_days_ago=190,
        due_in_days=0,
        waived=("Every monitor ok",),
        history=(
            Advance(14, "Scope agreed with marketing: newsletters first, never transactional."),
            Advance(45, "Per-recipient hour-of-open model: +12% opens on held-out sends."),
            Advance(38, "Scoring job and send scheduler validated on 5% of newsletters."),
            Complete(
                60,
                "Four weeks of A/B test on every newsletter: +11% opens, no rise in "
                "unsubscribes. Handed over to the marketing platform team.",
            ),
        ),
    ),
)
