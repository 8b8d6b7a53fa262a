"""The Freshservice filter-query language (`/tickets/filter?query=...`) as the simulator parses it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulators.freshservice_data import _TIMESTAMP_FORMAT, FILTER_QUERY_MAX_CHARS


class QueryError(Exception):
    """A filter query Freshservice would refuse with 400; `error` is one entry of `errors`."""

    def __init__(self, field_name: str, message: str, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.error = {"field": field_name, "message": message, "code": code}


_QUERY_TOKEN_RE = re.compile(r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<op>:\s*[<>]?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)

# field name in the query -> (kind, ticket key, accepts null)
FILTER_FIELDS: dict[str, tuple[str, str, bool]] = {
    "department_id": ("integer", "department_id", False),
    "requester_id": ("integer", "requester_id", False),
    "agent_id": ("integer", "responder_id", True),
    "group_id": ("integer", "group_id", True),
    "status": ("integer", "status", False),
    "priority": ("integer", "priority", False),
    "urgency": ("integer", "urgency", False),
    "impact": ("integer", "impact", False),
    "tag": ("tag", "tags", False),
    "created_at": ("date", "created_at", False),
    "updated_at": ("date", "updated_at", False),
    "due_by": ("date", "due_by", False),
    "fr_due_by": ("date", "fr_due_by", False),
}
# Freshservice for MSPs only: a client is a workspace, and `workspace_id:N` is a documented query field.
WORKSPACE_FIELD: dict[str, tuple[str, str, bool]] = {"workspace_id": ("integer", "workspace_id", False)}
_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True)
class _Condition:
    field_name: str
    operator: str  # ":", ":>" or ":<"
    kind: str  # "number", "string", "null", "boolean"
    value: Any


@dataclass(frozen=True)
class _Group:
    operator: str  # "AND" or "OR"
    children: tuple[Any, ...]


def _tokenize(query: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(query):
        match = _QUERY_TOKEN_RE.match(query, position)
        if match is None:
            raise QueryError("query", f"lexical error: invalid char in query text at offset {position}: "
                                      f"{query[position:position + 10]!r}")
        position = match.end()
        kind = match.lastgroup
        if kind is not None and kind != "space":
            tokens.append((kind, match.group(kind)))
    return tokens


class _QueryParser:
    """Recursive descent over: expr := term (OR term)*; term := factor (AND factor)*;
    factor := '(' expr ')' | field ':' ['>'|'<'] value. AND binds tighter than OR."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def parse(self) -> Any:
        if not self.tokens:
            raise QueryError("query", "Invalid query syntax: the query is empty")
        node = self._expression()
        if self.position < len(self.tokens):
            raise QueryError("query", f"Invalid query syntax: unexpected {self.tokens[self.position][1]!r}")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise QueryError("query", "Invalid query syntax: the query ends too early")
        self.position += 1
        return token

    def _is_keyword(self, keyword: str) -> bool:
        token = self._peek()
        return token is not None and token == ("word", keyword)

    def _expression(self) -> Any:
        children = [self._term()]
        while self._is_keyword("OR"):
            self.position += 1
            children.append(self._term())
        return children[0] if len(children) == 1 else _Group("OR", tuple(children))

    def _term(self) -> Any:
        children = [self._factor()]
        while self._is_keyword("AND"):
            self.position += 1
            children.append(self._factor())
        return children[0] if len(children) == 1 else _Group("AND", tuple(children))

    def _factor(self) -> Any:
        kind, text = self._take()
        if kind == "lparen":
            node = self._expression()
            if self._take()[0] != "rparen":
                raise QueryError("query", "Invalid query syntax: missing ')'")
            return node
        if kind != "word" or text in ("AND", "OR"):
            raise QueryError("query", f"Invalid query syntax: expected a field name, got {text!r}")
        op_kind, op_text = self._take()
        if op_kind != "op":
            raise QueryError("query", f"Invalid query syntax: expected ':' after {text!r}")
        operator = ":" + op_text[-1] if op_text[-1] in "<>" else ":"
        value_kind, value_text = self._take()
        if value_kind == "string":
            return _Condition(text, operator, "string", re.sub(r"\\(.)", r"\1", value_text[1:-1]))
        if value_kind == "number":
            number = float(value_text) if "." in value_text else int(value_text)
            return _Condition(text, operator, "number", number)
        if value_kind == "word" and value_text == "null":
            return _Condition(text, operator, "null", None)
        if value_kind == "word" and value_text in ("true", "false"):
            return _Condition(text, operator, "boolean", value_text == "true")
        raise QueryError("query", f"Invalid query syntax: unexpected value {value_text!r} for {text!r}")


def _date_bound(value: str, operator: str) -> str:
    # A bare 'yyyy-mm-dd' covers the whole UTC day on both sides: ':>' starts at 00:00:00Z and
    # ':<' ends at 23:59:59Z. The docs leave this open (section 3.4); inclusive days are the
    # reading under which the documented "created_at:<'2025-03-31'" means all of March, and a
    # careful client trims the period locally either way.
    if _DATE_ONLY_RE.match(value):
        day = datetime.strptime(value, "%Y-%m-%d")
        return day.strftime("%Y-%m-%dT00:00:00Z" if operator == ":>" else "%Y-%m-%dT23:59:59Z")
    datetime.strptime(value, _TIMESTAMP_FORMAT)  # raises ValueError on impossible dates
    return value


def _compile_condition(condition: _Condition, fields: dict[str, tuple[str, str, bool]]) -> Callable[[dict], bool]:
    spec = fields.get(condition.field_name)
    if spec is None:
        raise QueryError(condition.field_name, "[:invalid_field]")
    kind, key, nullable = spec
    name, operator = condition.field_name, condition.operator
    if kind == "integer":
        if condition.kind == "null" and nullable and operator == ":":
            return lambda ticket: ticket.get(key) is None
        if condition.kind != "number" or not isinstance(condition.value, int) or condition.value < 0:
            raise QueryError(name, '["It should be a/an Positive Integer"]')
        number = condition.value
        if operator == ":>":
            return lambda ticket: ticket.get(key) is not None and ticket[key] >= number
        if operator == ":<":
            return lambda ticket: ticket.get(key) is not None and ticket[key] <= number
        return lambda ticket: ticket.get(key) == number
    if kind == "tag":
        if condition.kind != "string":
            raise QueryError(name, '["It should be a/an String"]')
        if operator != ":":
            raise QueryError(name, '["Only the : operator is supported for this field"]')
        wanted = condition.value.casefold()
        return lambda ticket: any(tag.casefold() == wanted for tag in ticket.get("tags") or ())
    # date fields: only :> and :< (section 3.2)
    if operator == ":":
        raise QueryError(name, '["Only :> and :< are supported for date fields"]')
    if condition.kind != "string":
        raise QueryError(name, "[\"It should be a/an date in the format 'yyyy-mm-dd'\"]")
    try:
        bound = _date_bound(condition.value, operator)
    except ValueError:
        raise QueryError(name, "[\"It should be a/an date in the format 'yyyy-mm-dd'\"]") from None
    if operator == ":>":
        return lambda ticket: ticket.get(key) is not None and ticket[key] >= bound
    return lambda ticket: ticket.get(key) is not None and ticket[key] <= bound


def _compile(node: Any, fields: dict[str, tuple[str, str, bool]]) -> Callable[[dict], bool]:
    if isinstance(node, _Condition):
        return _compile_condition(node, fields)
    children = [_compile(child, fields) for child in node.children]
    if node.operator == "AND":
        return lambda ticket: all(child(ticket) for child in children)
    return lambda ticket: any(child(ticket) for child in children)


def _department_scope(node: Any) -> set[int] | None:
    """Departments a query can only match, or None when it may match any (narrows the scan)."""
    if isinstance(node, _Condition):
        if node.field_name == "department_id" and node.operator == ":" and node.kind == "number":
            return {node.value}
        return None
    scopes = [_department_scope(child) for child in node.children]
    if node.operator == "AND":
        known = [scope for scope in scopes if scope is not None]
        if not known:
            return None
        return set.intersection(*known)
    if any(scope is None for scope in scopes):
        return None
    return set().union(*(scope for scope in scopes if scope is not None))


def _field_names(node: Any) -> list[str]:
    if isinstance(node, _Condition):
        return [node.field_name]
    return [name for child in node.children for name in _field_names(child)]


def _named_departments(node: Any) -> set[int]:
    if isinstance(node, _Condition):
        if node.field_name == "department_id" and node.kind == "number":
            return {node.value}
        return set()
    return set().union(*(_named_departments(child) for child in node.children))


@dataclass(frozen=True)
class CompiledQuery:
    """A parsed filter query: a predicate over ticket records plus what it says about departments."""

    predicate: Callable[[dict], bool]
    department_scope: set[int] | None
    named_departments: set[int]


def compile_filter_query(raw: str, refused_fields: frozenset[str] = frozenset(), workspace_field: bool = False) -> CompiledQuery:
    """Parse the `query` parameter of /tickets/filter (outer double quotes included) or raise QueryError.

    A field in `refused_fields` is answered as an unknown one, the way an account that does not
    know it would (section 3.8's body for an invalid field). `workspace_field`: accept `workspace_id`
    as a field (the Freshservice for MSPs edition).
    """
    if len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
        raise QueryError("query", "lexical error: invalid char in json text. "
                                  "The query must be enclosed in double quotes")
    inner = raw[1:-1]
    if '"' in inner:
        raise QueryError("query", "lexical error: invalid char in json text. Unexpected '\"' in the query")
    # The 512-character limit is taken on the expression inside the quotes (section 3.5 leaves it open).
    if len(inner) > FILTER_QUERY_MAX_CHARS:
        raise QueryError("query", f"It should not be more than {FILTER_QUERY_MAX_CHARS} characters")
    tree = _QueryParser(_tokenize(inner)).parse()
    refused = [name for name in _field_names(tree) if name in refused_fields]
    if refused:
        raise QueryError(refused[0], "[:invalid_field]")
    fields = {**FILTER_FIELDS, **WORKSPACE_FIELD} if workspace_field else FILTER_FIELDS
    return CompiledQuery(_compile(tree, fields), _department_scope(tree), _named_departments(tree))

