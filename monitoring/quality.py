"""Data quality of a window against limits learned from the reference.

Pure numpy and pyarrow, like ``monitoring.drift``, whose profiles it reads. Per column:

- **missing values**: the window's share of missing values (NaN, None, infinities) may
  exceed the reference's by at most ``missing_tolerance`` (default 0.05);
- **type violations**: values of the wrong type (text in a numeric column), which ingest
  keeps as missing and counts, may be at most ``type_tolerance`` of the rows (default 0);
- **range violations** (numeric): values outside the reference's [min, max] may be at
  most ``range_tolerance`` of the non-missing values (default 0.01);
- **unseen categories** (categorical): values the reference never had may be at most
  ``unseen_tolerance`` of the non-missing values (default 0.01).

A window without rows is "not enough data", never a violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitoring.choices import ColumnKind
from monitoring.drift import OTHER, Profile, category_counts

DEFAULTS = {
    "missing_tolerance": 0.05,
    "type_tolerance": 0.0,
    "range_tolerance": 0.01,
    "unseen_tolerance": 0.01,
}


@dataclass(frozen=True)
class ColumnQuality:
    name: str
    kind: str
    rows: int
    missing_share: float
    missing_limit: float
    type_errors: int
    out_of_range_share: float | None = None
    unseen_share: float | None = None
    unseen_examples: tuple[str, ...] = ()
    violations: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "rows": self.rows,
            "missing_share": self.missing_share,
            "missing_limit": self.missing_limit,
            "type_errors": self.type_errors,
            "out_of_range_share": self.out_of_range_share,
            "unseen_share": self.unseen_share,
            "unseen_examples": list(self.unseen_examples),
            "violations": list(self.violations),
        }


def _share(part: float, whole: float) -> float:
    return float(part / whole) if whole else 0.0


def column_quality(
    name: str,
    profile: Profile,
    values: Any,
    *,
    type_errors: int = 0,
    limits: Mapping[str, float] | None = None,
) -> ColumnQuality:
    limits = {**DEFAULTS, **(limits or {})}
    reference_missing = _share(profile.missing, profile.n + profile.missing)
    missing_limit = min(1.0, reference_missing + limits["missing_tolerance"])
    violations: list[str] = []
    if profile.kind == ColumnKind.NUMERIC:
        array = np.asarray(values, dtype=np.float64)
        rows = int(array.size)
        kept = array[np.isfinite(array)]
        missing = rows - kept.size
        outside = int(np.count_nonzero((kept < profile.min) | (kept > profile.max)))
        out_share = _share(outside, kept.size)
        if kept.size and out_share > limits["range_tolerance"]:
            violations.append(
                f"{out_share:.1%} of values lie outside the reference range "
                f"[{profile.min:.6g}, {profile.max:.6g}] (at most "
                f"{limits['range_tolerance']:.1%} allowed)"
            )
        unseen_share, examples = None, ()
    else:
        counts, missing = category_counts(values)
        present = sum(counts.values())
        rows = present + missing
        out_share = None
        if OTHER in profile.counts:
            unseen = {}  # a capped vocabulary cannot tell unseen from rare
        else:
            unseen = {v: c for v, c in counts.items() if v not in profile.counts}
        unseen_share = _share(sum(unseen.values()), present)
        examples = tuple(sorted(unseen, key=lambda v: (-unseen[v], v))[:5])
        if present and unseen_share > limits["unseen_tolerance"]:
            violations.append(
                f"{unseen_share:.1%} of values are categories the reference never had "
                f"(at most {limits['unseen_tolerance']:.1%} allowed)"
            )
    missing_share = _share(missing, rows)
    if rows and missing_share > missing_limit:
        violations.append(
            f"{missing_share:.1%} of values are missing (the reference had "
            f"{reference_missing:.1%}; at most {missing_limit:.1%} allowed)"
        )
    type_share = _share(type_errors, rows)
    if rows and type_errors and type_share > limits["type_tolerance"]:
        violations.append(f"{type_errors} values of the wrong type ({type_share:.1%} of rows)")
    return ColumnQuality(
        name=name,
        kind=profile.kind,
        rows=rows,
        missing_share=missing_share,
        missing_limit=missing_limit,
        type_errors=type_errors,
        out_of_range_share=out_share,
        unseen_share=unseen_share,
        unseen_examples=examples,
        violations=tuple(violations),
    )


def dataset_quality(
    profiles: Mapping[str, Profile],
    current: Mapping[str, Any],
    *,
    type_errors: Mapping[str, int] | None = None,
    limits: Mapping[str, float] | None = None,
) -> list[ColumnQuality]:
    type_errors = type_errors or {}
    return [
        column_quality(
            name, prof, current[name], type_errors=type_errors.get(name, 0), limits=limits
        )
        for name, prof in profiles.items()
    ]
