"""MLflow's search grammar: filter strings and ``order_by`` clauses, parsed into plain data.

The grammar is MLflow's (``mlflow/utils/search_utils.py``), parsed here by hand: comparisons
joined by ``AND`` (no ``OR``, no parentheses), an identifier on the left (``metrics.acc``,
``params."learning rate"``, ``tags.`team```, ``attributes.status`` or a bare attribute), a
comparator, and a quoted string, a number or a parenthesised list of strings on the right.
Selectors turn the parsed clauses into queries; nothing here touches the database. Every
refusal is a :class:`DomainError` with the code ``invalid``, which the MLflow layer answers
with ``INVALID_PARAMETER_VALUE``.
"""

import re
from dataclasses import dataclass

from mlprojects.exceptions import DomainError

METRIC, PARAM, TAG, ATTRIBUTE, DATASET = "metric", "param", "tag", "attribute", "dataset"

_ENTITY_ALIASES = {
    "metric": METRIC,
    "metrics": METRIC,
    "parameter": PARAM,
    "parameters": PARAM,
    "param": PARAM,
    "params": PARAM,
    "tag": TAG,
    "tags": TAG,
    "attribute": ATTRIBUTE,
    "attributes": ATTRIBUTE,
    "attr": ATTRIBUTE,
    "run": ATTRIBUTE,
    "dataset": DATASET,
    "datasets": DATASET,
}

NUMERIC_COMPARATORS = frozenset({">", ">=", "!=", "=", "<", "<="})
STRING_COMPARATORS = frozenset({"!=", "=", "LIKE", "ILIKE"})
NULL_COMPARATORS = frozenset({"IS NULL", "IS NOT NULL"})
LIST_COMPARATORS = frozenset({"IN", "NOT IN"})

_KEY_ALIASES = {"created": "start_time", "Created": "start_time"}
_KEY_ALIASES.update(dict.fromkeys(("run name", "Run name", "Run Name"), "run_name"))


@dataclass(frozen=True, slots=True)
class Grammar:
    """What one search accepts: its entities, attribute keys and comparators."""

    entities: frozenset[str]
    string_attributes: frozenset[str]
    numeric_attributes: frozenset[str]
    list_attributes: frozenset[str]
    null_entities: frozenset[str]

    @property
    def attributes(self) -> frozenset[str]:
        return self.string_attributes | self.numeric_attributes


RUNS = Grammar(
    entities=frozenset({METRIC, PARAM, TAG, ATTRIBUTE, DATASET}),
    string_attributes=frozenset({"run_id", "run_name", "user_id", "status", "artifact_uri"}),
    numeric_attributes=frozenset({"start_time", "end_time"}),
    list_attributes=frozenset({"run_id"}),
    null_entities=frozenset({PARAM, TAG}),
)
EXPERIMENTS = Grammar(
    entities=frozenset({TAG, ATTRIBUTE}),
    string_attributes=frozenset({"name", "experiment_id"}),
    numeric_attributes=frozenset({"creation_time", "last_update_time"}),
    list_attributes=frozenset({"experiment_id"}),
    null_entities=frozenset({TAG}),
)
DATASET_KEYS = frozenset({"name", "digest", "context"})


@dataclass(frozen=True, slots=True)
class Clause:
    entity: str
    key: str
    comparator: str
    value: float | int | str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class OrderBy:
    entity: str
    key: str
    ascending: bool


_TOKENS = re.compile(
    r"""\s*(?:
      (?P<string>'[^']*'|"[^"]*")
    | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.])
    | (?P<op>!=|<>|>=|<=|==|=|>|<)
    | (?P<punct>[(),])
    | (?P<ident>[A-Za-z_]\w*(?:\.(?:`[^`]*`|"[^"]*"|[\w.]+))?|`[^`]*`)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str


def _refuse(message: str) -> DomainError:
    return DomainError("invalid", message, fields={"filter": [message]})


def _tokenize(text: str, *, subject: str) -> list[_Token]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKENS.match(text, position)
        if match is None or match.end() == position:
            raise _refuse(f"Invalid {subject} '{text}': cannot parse '{text[position:]}'.")
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return text[1:-1]
    return text


def _identifier(text: str, grammar: Grammar, *, ordering: bool = False) -> tuple[str, str]:
    entity_text, dot, key = text.partition(".")
    if text.startswith("`") or not dot:
        entity, key = ATTRIBUTE, _unquote(text)
    else:
        entity = _ENTITY_ALIASES.get(_unquote(entity_text))
        if entity is None or entity not in grammar.entities:
            valid = sorted(grammar.entities)
            raise _refuse(f"Invalid entity type '{entity_text}'. Valid values are {valid}")
        key = _unquote(key)
    if entity == ATTRIBUTE:
        key = _KEY_ALIASES.get(key, key)
        if key not in grammar.attributes:
            raise _refuse(
                f"Invalid attribute key '{key}' specified. Valid keys are "
                f"'{sorted(grammar.attributes)}'"
            )
    elif entity == DATASET and key not in DATASET_KEYS:
        raise _refuse(
            f"Invalid dataset key '{key}' specified. Valid keys are '{sorted(DATASET_KEYS)}'"
        )
    elif not key:
        raise _refuse(f"Invalid identifier '{text}': the key is empty.")
    if ordering and entity == DATASET:
        raise _refuse(f"Invalid order_by entity type '{entity_text}'")
    return entity, key


class _Parser:
    def __init__(self, text: str, grammar: Grammar):
        self.text = text
        self.grammar = grammar
        self.tokens = _tokenize(text, subject="filter")
        self.position = 0

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _refuse(f"Invalid filter '{self.text}': it ends too early.")
        self.position += 1
        return token

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token.text.upper() if token is not None and token.kind == "ident" else ""

    def clauses(self) -> list[Clause]:
        clauses = [self.clause()]
        while self.peek() is not None:
            if self.word() != "AND":
                raise _refuse(
                    f"Invalid clause(s) in filter string: '{self.peek().text}'. Only AND may "
                    "join comparisons."
                )
            self.position += 1
            clauses.append(self.clause())
        return clauses

    def clause(self) -> Clause:
        token = self.take()
        if token.kind != "ident" or token.text.upper() in ("AND", "OR", "NOT"):
            raise _refuse(
                f"Invalid clause(s) in filter string: '{token.text}'. Expected an identifier "
                "such as metrics.accuracy, params.model or attributes.status."
            )
        entity, key = _identifier(token.text, self.grammar)
        comparator = self.comparator(token.text)
        self.check(entity, key, comparator)
        value = None if comparator in NULL_COMPARATORS else self.value(entity, key, comparator)
        return Clause(entity, key, comparator, value)

    def comparator(self, identifier: str) -> str:
        token = self.peek()
        if token is not None and token.kind == "op":
            self.position += 1
            return {"==": "=", "<>": "!="}.get(token.text, token.text)
        words = [self.word(), self.word(1), self.word(2)]
        for candidate in (["IS", "NOT", "NULL"], ["IS", "NULL"], ["NOT", "IN"]):
            if words[: len(candidate)] == candidate:
                self.position += len(candidate)
                return " ".join(candidate)
        if words[0] in ("LIKE", "ILIKE", "IN"):
            self.position += 1
            return words[0]
        found = token.text if token is not None else "the end of the filter"
        raise _refuse(
            f"Invalid comparison clause: expected a comparator after '{identifier}', found {found}."
        )

    def value(self, entity: str, key: str, comparator: str):
        token = self.take()
        numeric = entity == METRIC or (
            entity == ATTRIBUTE and key in self.grammar.numeric_attributes
        )
        if comparator in LIST_COMPARATORS:
            if token.text != "(":
                raise _refuse(
                    f"Expected a parenthesised list of quoted strings after {comparator}, "
                    f"found {token.text}."
                )
            return self.string_list()
        if numeric:
            if token.kind != "number":
                kind = "metric" if entity == METRIC else f"numeric attribute: {key}"
                raise _refuse(f"Expected numeric value type for {kind}. Found {token.text}")
            number = float(token.text)
            if entity == ATTRIBUTE and number.is_integer():
                return int(number)
            return number
        if token.kind != "string":
            raise _refuse(
                f"Expected a quoted string value for {entity}s (e.g. 'my-value'). Got value "
                f"{token.text}"
            )
        return _unquote(token.text)

    def string_list(self) -> tuple[str, ...]:
        values = []
        while True:
            token = self.take()
            if token.kind != "string":
                raise _refuse(f"Expected a quoted string in the list, found {token.text}.")
            values.append(_unquote(token.text))
            separator = self.take()
            if separator.text == ")":
                return tuple(values)
            if separator.text != ",":
                raise _refuse(f"Expected ',' or ')' in the list, found {separator.text}.")

    def check(self, entity: str, key: str, comparator: str) -> None:
        grammar = self.grammar
        if comparator in NULL_COMPARATORS:
            allowed = NULL_COMPARATORS if entity in grammar.null_entities else frozenset()
        elif comparator in LIST_COMPARATORS:
            listable = (entity == ATTRIBUTE and key in grammar.list_attributes) or (
                entity == DATASET
            )
            allowed = LIST_COMPARATORS if listable else frozenset()
        elif entity == METRIC or (entity == ATTRIBUTE and key in grammar.numeric_attributes):
            allowed = NUMERIC_COMPARATORS
        else:
            allowed = STRING_COMPARATORS
        if comparator not in allowed:
            valid = sorted(self.valid_comparators(entity, key))
            raise _refuse(f"Invalid comparator '{comparator}' not one of '{valid}'")

    def valid_comparators(self, entity: str, key: str) -> frozenset[str]:
        grammar = self.grammar
        if entity == METRIC or (entity == ATTRIBUTE and key in grammar.numeric_attributes):
            return NUMERIC_COMPARATORS
        extra = NULL_COMPARATORS if entity in grammar.null_entities else frozenset()
        if (entity == ATTRIBUTE and key in grammar.list_attributes) or entity == DATASET:
            extra |= LIST_COMPARATORS
        return STRING_COMPARATORS | extra


def parse_filter(text: str, grammar: Grammar = RUNS) -> list[Clause]:
    """The AND-ed comparisons of ``text``; an empty filter matches everything."""
    if not text or not text.strip():
        return []
    return _Parser(text, grammar).clauses()


def parse_order_by(clauses: list[str], grammar: Grammar = RUNS) -> list[OrderBy]:
    """``["metrics.acc DESC", "start_time"]`` as :class:`OrderBy` items; a key may appear once."""
    parsed, seen = [], set()
    for text in clauses:
        tokens = _tokenize(text, subject="order_by clause")
        direction = tokens[1].text.upper() if len(tokens) == 2 else "ASC"
        if (
            not tokens
            or len(tokens) > 2
            or tokens[0].kind != "ident"
            or direction not in ("ASC", "DESC")
            or (len(tokens) == 2 and tokens[1].kind != "ident")
        ):
            raise DomainError(
                "invalid",
                f"Invalid order_by clause '{text}'. Could not be parsed.",
                fields={"order_by": [text]},
            )
        entity, key = _identifier(tokens[0].text, grammar, ordering=True)
        if (entity, key) in seen:
            raise DomainError(
                "invalid",
                f"`order_by` contains duplicate fields: {clauses}",
                fields={"order_by": [text]},
            )
        seen.add((entity, key))
        parsed.append(OrderBy(entity, key, direction == "ASC"))
    return parsed
