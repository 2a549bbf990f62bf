"""A small GraphQL reader for the stand-in: operations, variables, arguments and selection sets.

Not a general engine: no fragments; directives are kept on their field for the resolver to read
(`@idempotent(key:)`), never evaluated here. It parses what our client (and a curious person with
curl) sends, substitutes variables, and prunes resolved values down to the
selected shape, with Shopify's cost estimate of the selection.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class GraphQLError(Exception):
    def __init__(self, message: str, *, code: str = "", status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


_TOKEN = re.compile(
    r"""
    (?P<ws>[\s,\ufeff]+|\#[^\n]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$():=@\[\]{}|&])
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class Field:
    name: str
    alias: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    selections: list["Field"] | None = None
    directives: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class Operation:
    kind: str  # "query" | "mutation"
    name: str | None
    variables: dict[str, Any]  # name -> default value (or None)
    selections: list[Field]


def _tokens(source: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match:
            raise GraphQLError(f"Parse error on {source[pos : pos + 10]!r} at offset {pos}")
        pos = match.end()
        kind = match.lastgroup
        if kind != "ws":
            tokens.append((kind, match.group()))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise GraphQLError("Parse error: unexpected end of document")
        if (value is not None and token[1] != value) or (kind is not None and token[0] != kind):
            raise GraphQLError(f"Parse error on {token[1]!r} (expected {value or kind})")
        self.pos += 1
        return token[1]

    def at(self, value: str) -> bool:
        token = self.peek()
        return token is not None and token[1] == value and token[0] != "string"

    def document(self) -> list[Operation]:
        operations = []
        while self.peek() is not None:
            operations.append(self.operation())
        if not operations:
            raise GraphQLError("Parse error: no operation")
        return operations

    def operation(self) -> Operation:
        if self.at("{"):
            return Operation("query", None, {}, self.selection_set())
        kind = self.take(kind="name")
        if kind not in ("query", "mutation"):
            raise GraphQLError(f"Unsupported operation type {kind!r}")
        name = self.take(kind="name") if self.peek() and self.peek()[0] == "name" else None
        variables: dict[str, Any] = {}
        if self.at("("):
            self.take("(")
            while not self.at(")"):
                self.take("$")
                var = self.take(kind="name")
                self.take(":")
                self.type_ref()
                variables[var] = self.value(const=True) if self.at("=") and self.take("=") else None
            self.take(")")
        self.directives()  # an operation's own directives change nothing in the stand-in
        return Operation(kind, name, variables, self.selection_set())

    def type_ref(self) -> None:
        if self.at("["):
            self.take("[")
            self.type_ref()
            self.take("]")
        else:
            self.take(kind="name")
        if self.at("!"):
            self.take("!")

    def directives(self) -> dict[str, dict[str, Any]]:
        found = {}
        while self.at("@"):
            self.take("@")
            name = self.take(kind="name")
            found[name] = self.arguments() if self.at("(") else {}
        return found

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields = []
        while not self.at("}"):
            if self.peek() and self.peek()[0] == "spread":
                raise GraphQLError("Fragments are not supported by the sandbox")
            name = self.take(kind="name")
            alias = None
            if self.at(":"):
                self.take(":")
                alias, name = name, self.take(kind="name")
            args = self.arguments() if self.at("(") else {}
            directives = self.directives()
            selections = self.selection_set() if self.at("{") else None
            fields.append(
                Field(
                    name=name,
                    alias=alias,
                    args=args,
                    selections=selections,
                    directives=directives,
                )
            )
        self.take("}")
        if not fields:
            raise GraphQLError("Parse error: empty selection set")
        return fields

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        args = {}
        while not self.at(")"):
            name = self.take(kind="name")
            self.take(":")
            args[name] = self.value()
        self.take(")")
        return args

    def value(self, *, const: bool = False) -> Any:
        kind, text = self.peek() or ("", "")
        if text == "$" and kind == "punct":
            if const:
                raise GraphQLError("Variables are not allowed in default values")
            self.take("$")
            return Var(self.take(kind="name"))
        if kind == "number":
            self.pos += 1
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "string":
            self.pos += 1
            return _unescape(text[1:-1])
        if kind == "name":
            self.pos += 1
            return {"true": True, "false": False, "null": None}.get(text, EnumValue(text))
        if text == "[":
            self.take("[")
            items = []
            while not self.at("]"):
                items.append(self.value(const=const))
            self.take("]")
            return items
        if text == "{":
            self.take("{")
            obj = {}
            while not self.at("}"):
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value(const=const)
            self.take("}")
            return obj
        raise GraphQLError(f"Parse error on {text!r} (expected a value)")


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u":
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def operation_parse(query: str, operation_name: str | None = None) -> Operation:
    operations = _Parser(query).document()
    if operation_name:
        for operation in operations:
            if operation.name == operation_name:
                return operation
        raise GraphQLError(f"No operation named {operation_name!r}")
    if len(operations) > 1:
        raise GraphQLError("An operationName is required when the document has several operations")
    return operations[0]


def value_resolve(value: Any, variables: dict[str, Any]) -> Any:
    """An argument's value with $variables substituted and enum values as their names."""
    if isinstance(value, Var):
        return variables.get(value.name)
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [value_resolve(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: value_resolve(item, variables) for key, item in value.items()}
    return value


def args_resolve(field_: Field, variables: dict[str, Any]) -> dict[str, Any]:
    return {name: value_resolve(value, variables) for name, value in field_.args.items()}


# A resolved object's field may be a plain value or a function of the field's arguments
# (connections: lineItems(first:, after:)).
Resolver = Callable[[dict[str, Any]], Any]
_CONNECTION_KEYS = {"nodes", "edges"}


def selection_prune(selections: list[Field], obj: dict, variables: dict, type_name: str) -> dict:
    """Keep exactly the selected fields of a resolved object (aliases honoured)."""
    result = {}
    for field_ in selections:
        if field_.name == "__typename":
            result[field_.key] = type_name
            continue
        if field_.name not in obj:
            raise GraphQLError(f"Field '{field_.name}' doesn't exist on type '{type_name}'")
        value = obj[field_.name]
        if callable(value):
            value = value(args_resolve(field_, variables))
        result[field_.key] = value_prune(field_, value, variables)
    return result


def value_prune(field_: Field, value: Any, variables: dict) -> Any:
    if field_.selections is None:
        if isinstance(value, dict | list) and value and isinstance(_first(value), dict):
            raise GraphQLError(f"Field '{field_.name}' of an object type must have a selection")
        return value
    if value is None:
        return None
    type_name = value.get("__typename", field_.name) if isinstance(value, dict) else field_.name
    if isinstance(value, list):
        return [
            selection_prune(field_.selections, item, variables, item.get("__typename", field_.name))
            for item in value
        ]
    return selection_prune(field_.selections, value, variables, type_name)


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _object_cost(selections: list[Field], variables: dict) -> int:
    return 1 + sum(field_cost(child, variables) for child in selections)


def field_cost(field_: Field, variables: dict) -> int:
    """Shopify's requested cost: scalars 0, objects 1, connections 2 + first × node cost."""
    if field_.selections is None or field_.name == "pageInfo":
        return 0
    first = args_resolve(field_, variables).get("first")
    names = {child.name for child in field_.selections}
    if names & _CONNECTION_KEYS:
        node_cost = 0
        for child in field_.selections:
            if child.name == "nodes" and child.selections:
                node_cost = max(node_cost, _object_cost(child.selections, variables))
            elif child.name == "edges" and child.selections:
                for edge_child in child.selections:
                    if edge_child.name == "node" and edge_child.selections:
                        node_cost = max(node_cost, _object_cost(edge_child.selections, variables))
        return 2 + int(first or 0) * node_cost
    cost = _object_cost(field_.selections, variables)
    return cost * int(first) if isinstance(first, int) and first > 0 else cost


def actual_cost(selections: list[Field], data: Any) -> int:
    """The cost of what was actually returned: connections count their real nodes."""
    if not isinstance(data, dict):
        return 0
    total = 0
    for field_ in selections:
        if field_.selections is None or field_.name == "pageInfo":
            continue
        value = data.get(field_.key)
        names = {child.name for child in field_.selections}
        if names & _CONNECTION_KEYS and isinstance(value, dict):
            nodes_field = next((c for c in field_.selections if c.name == "nodes"), None)
            nodes = value.get(nodes_field.key) if nodes_field else None
            if nodes is None:
                edges_field = next(c for c in field_.selections if c.name == "edges")
                node_field = next(
                    (c for c in edges_field.selections or [] if c.name == "node"), None
                )
                nodes = [
                    edge.get(node_field.key) if node_field else {}
                    for edge in value.get(edges_field.key) or []
                ]
                selections_of_node = node_field.selections if node_field else []
            else:
                selections_of_node = nodes_field.selections
            total += 2 + sum(1 + actual_cost(selections_of_node or [], n) for n in nodes or [])
        elif isinstance(value, list):
            costs = [1 + actual_cost(field_.selections, item) for item in value]
            # A plain list is charged as one object, like the estimate; a sized one per item.
            total += sum(costs) if "first" in field_.args else max(costs, default=0)
        elif isinstance(value, dict):
            total += 1 + actual_cost(field_.selections, value)
    return total
