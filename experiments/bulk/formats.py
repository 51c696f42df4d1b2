"""What a bulk upload may be: its three media types and the four fields of a point."""

FIELDS = ("key", "step", "timestamp", "value")

JSON = "application/json"
CSV = "text/csv"
NDJSON = "application/x-ndjson"
