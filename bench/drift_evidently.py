"""Evidently's side of bench/drift.py: DataDriftPreset on the bench's parquet files.

Runs in the Evidently venv that bench/drift.py makes (it imports nothing of the app):

    python bench/drift_evidently.py DIR NUMERIC_COLUMNS CATEGORICAL_COLUMNS

and prints one JSON line: the seconds ``Report.run`` took (data frames already in memory,
``Dataset.from_pandas`` included), the peak resident memory, and per column Evidently's
method, score and drift decision (the status of its "Value Drift for column" test).
"""

import json
import re
import resource
import sys
import time
from pathlib import Path

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

TEST_NAME = re.compile(r"Value Drift for column (?P<column>.+)$")


def main() -> None:
    folder = Path(sys.argv[1])
    numeric = [c for c in sys.argv[2].split(",") if c]
    categorical = [c for c in sys.argv[3].split(",") if c]
    reference = pd.read_parquet(folder / "reference.parquet")
    current = pd.read_parquet(folder / "current.parquet")
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)

    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()], include_tests=True).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    seconds = time.perf_counter() - started

    result = snapshot.dict()
    scores = {
        m["config"]["column"]: (m["config"]["method"], m["value"])
        for m in result["metrics"]
        if m["config"].get("type") == "evidently:metric_v2:ValueDrift"
    }
    columns = {}
    for test in result["tests"]:
        match = TEST_NAME.match(test["name"])
        if match:
            column = match["column"]
            method, score = scores[column]
            columns[column] = {
                "method": method,
                "score": score,
                "drifted": test["status"] == "FAIL",
            }
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "columns": columns,
            }
        )
    )


if __name__ == "__main__":
    main()
