"""The house rules a newcomer relies on, checked from the source: no import cycle in bot/,
dependencies point bot -> storage -> surveys, and the engine's feature modules leave SQL to
storage/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
# Modules that decide what to say and do; their queries live in storage/.
NO_QUERIES = ("conversation", "commands", "invite", "slack_roster", "network", "network_commands")
QUERY_WORDS = {"select", "update", "insert", "delete", "func", "text", "or_", "and_"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module this file imports, at any depth, except under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text("utf-8"))
    skipped = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def graph(package: str) -> dict[str, set[str]]:
    files = {module_name(p): p for p in (ROOT / package).rglob("*.py")}
    return {name: {m for m in imports(path) if m in files} - {name} for name, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (each reported from where it was entered)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return found


def test_bot_has_no_import_cycle() -> None:
    edges = graph("bot")
    assert "bot.conversation" in edges and "bot.cli.common" in edges
    assert cycles(edges) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_dependencies_point_bot_to_storage_to_surveys() -> None:
    for package, forbidden in (("surveys", ("bot", "storage")), ("storage", ("bot",))):
        for path in (ROOT / package).rglob("*.py"):
            bad = {m for m in imports(path) if m.split(".")[0] in forbidden}
            assert bad == set(), f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_engine_and_its_features_leave_queries_to_storage() -> None:
    for name in NO_QUERIES:
        path = ROOT / "bot" / f"{name}.py"
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                used = {alias.name for alias in node.names} & QUERY_WORDS
                assert used == set(), f"bot/{name}.py builds SQL: {sorted(used)}"
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "scalars", "scalar"):
                raise AssertionError(f"bot/{name}.py runs a query itself (line {node.lineno})")
