"""Datasets a sweep trains on: the ones that ship inside scikit-learn, and CSV files a
contributor uploads. An upload is read whole at creation, so a malformed file, an empty one,
one over the size limit or one without its declared target is refused with what is wrong,
and the columns' kinds (numeric or categorical) are recorded for the preprocessing pipeline.
"""

import csv
import functools
import io
from dataclasses import dataclass

import numpy as np

from experiments.choices import DatasetSource, Task
from experiments.validation import csv_text
from mlprojects.exceptions import DomainError

BUILTIN_DATASETS = {
    "iris": ("load_iris", Task.CLASSIFICATION, "Iris flowers: 150 rows, 3 species"),
    "wine": ("load_wine", Task.CLASSIFICATION, "Wine cultivars: 178 rows, 3 classes"),
    "breast_cancer": (
        "load_breast_cancer",
        Task.CLASSIFICATION,
        "Breast cancer diagnosis: 569 rows, 2 classes",
    ),
    "digits": ("load_digits", Task.CLASSIFICATION, "Handwritten digits: 1,797 rows, 10 classes"),
    "diabetes": ("load_diabetes", Task.REGRESSION, "Diabetes progression: 442 rows, regression"),
}
BUILTIN_TARGET = "target"
NUMERIC, CATEGORICAL = "numeric", "categorical"
# A target with at most this many distinct values, or any text target, suggests classification.
CLASS_LIMIT = 20


@dataclass(frozen=True)
class Table:
    """A dataset as a trial reads it: the features as a data frame and the target."""

    features: object  # pandas.DataFrame
    target: np.ndarray
    columns: dict[str, str]


def invalid(field: str, rule: str) -> DomainError:
    return DomainError.invalid(field, rule)


def _frame_of_builtin(key: str):
    from sklearn import datasets

    loader = getattr(datasets, BUILTIN_DATASETS[key][0])
    bunch = loader(as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    return frame


def describe_builtin(key: str) -> dict:
    """What ``Dataset`` records of a built-in dataset: its target, task, columns and rows."""
    if key not in BUILTIN_DATASETS:
        raise invalid("builtin", f"must be one of {', '.join(BUILTIN_DATASETS)}")
    frame = _frame_of_builtin(key)
    columns = {c: NUMERIC for c in frame.columns if c != BUILTIN_TARGET}
    return {
        "target": BUILTIN_TARGET,
        "task": BUILTIN_DATASETS[key][1],
        "columns": columns,
        "rows": len(frame),
    }


def read_csv(data: bytes):
    """The upload as a data frame, or a refusal that says what is wrong with the file."""
    import pandas as pd

    if not data.strip():
        raise invalid("file", "the file is empty")
    text = csv_text(data, field="file")
    _check_shape(text)
    try:
        frame = pd.read_csv(io.StringIO(text), skipinitialspace=True)
    except pd.errors.EmptyDataError as error:
        raise invalid("file", "the file is empty") from error
    except (pd.errors.ParserError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        raise invalid("file", f"is not a well-formed CSV file: {first}") from error
    names = [str(c) for c in frame.columns]
    if any(name.startswith("Unnamed: ") for name in names):
        raise invalid("file", "every column needs a name in the header row")
    if len(set(names)) != len(names):
        raise invalid("file", "column names in the header row must be unique")
    frame.columns = names
    if len(frame) == 0:
        raise invalid("file", "the file has a header but no rows")
    return frame


def _check_shape(text: str) -> None:
    """A header of distinct names, and every row as wide as it: pandas would otherwise
    rename repeated columns and take extra fields as an index, silently."""
    try:
        rows = csv.reader(io.StringIO(text), skipinitialspace=True)
        header = next(rows, [])
        names = [name.strip() for name in header]
        if not names or any(not name for name in names):
            raise invalid("file", "every column needs a name in the header row")
        if len(set(names)) != len(names):
            repeated = next(name for name in names if names.count(name) > 1)
            raise invalid("file", f"column names in the header row must be unique (“{repeated}”)")
        for line, row in enumerate(rows, start=2):
            if row and len(row) != len(names):
                raise invalid(
                    "file",
                    f"is not a well-formed CSV file: line {line} has {len(row)} fields, "
                    f"the header {len(names)}",
                )
    except csv.Error as error:
        raise invalid("file", f"is not a well-formed CSV file: {error}") from error


def describe_upload(data: bytes, *, target: str | None, limit: int) -> dict:
    if len(data) > limit:
        raise invalid("file", f"is {len(data):,} bytes, over the limit of {limit:,} bytes")
    frame = read_csv(data)
    if not target:
        raise invalid("target", "name the target column of the file")
    if target not in frame.columns:
        shown = ", ".join(list(frame.columns)[:20])
        raise invalid("target", f"the file has no column “{target}” (its columns: {shown})")
    if frame[target].isna().any():
        rows = int(frame[target].isna().sum())
        raise invalid("target", f"the target column “{target}” is empty in {rows} row(s)")
    features = [c for c in frame.columns if c != target]
    if not features:
        raise invalid("file", "the file needs at least one column besides the target")
    if len(frame) < 10:
        raise invalid("file", f"has {len(frame)} rows; cross-validation needs at least 10")
    columns = {c: NUMERIC if frame[c].dtype.kind in "biuf" else CATEGORICAL for c in features}
    values = frame[target]
    numeric_target = values.dtype.kind in "biuf"
    task = (
        Task.REGRESSION
        if numeric_target and values.nunique() > CLASS_LIMIT
        else Task.CLASSIFICATION
    )
    return {"target": target, "task": task, "columns": columns, "rows": len(frame)}


@functools.lru_cache(maxsize=8)
def _cached_table(dataset_pk: int, source: str, builtin: str, path: str, target: str) -> Table:
    if source == DatasetSource.BUILTIN:
        frame = _frame_of_builtin(builtin)
    else:
        with open(path, "rb") as file:
            frame = read_csv(file.read())
    features = frame.drop(columns=[target])
    columns = {
        c: NUMERIC if features[c].dtype.kind in "biuf" else CATEGORICAL for c in features.columns
    }
    return Table(features=features, target=frame[target].to_numpy(), columns=columns)


def load(dataset, *, target: str | None = None) -> Table:
    """The dataset's table with ``target`` (the dataset's own by default) as the target.
    Datasets never change once made, so each worker process keeps the last few it read."""
    path = dataset.file.path if dataset.source != DatasetSource.BUILTIN else ""
    return _cached_table(
        dataset.pk, dataset.source, dataset.builtin, path, target or dataset.target
    )


def preprocessor(columns: dict[str, str]):
    """Numeric columns imputed (median) and scaled; categorical ones imputed (most frequent)
    and one-hot encoded, unknown categories ignored at scoring time."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c, kind in columns.items() if kind == NUMERIC]
    categorical = [c for c, kind in columns.items() if kind == CATEGORICAL]
    parts = []
    if numeric:
        parts.append(
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)
        )
    if categorical:
        parts.append(
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                categorical,
            )
        )
    return ColumnTransformer(parts)
