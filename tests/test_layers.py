"""The house rules a newcomer relies on, checked from the source: no import cycle in bot/,
dependencies point bot -> storage -> surveys, and no module of bot/ builds or runs SQL."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
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


def sql_in(source: str) -> list[str]:
    """What in this source builds or runs SQL (sqlalchemy query words, .execute/.scalar…)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += sorted({alias.name for alias in node.names} & QUERY_WORDS)
        if isinstance(node, ast.Attribute) and node.attr in ("execute", "scalars", "scalar"):
            found.append(f"{node.attr} (line {node.lineno})")
    return found


def test_no_sql_outside_storage() -> None:
    """Every module of bot/ leaves SQL to storage/: no query built, none run."""
    for path in sorted((ROOT / "bot").rglob("*.py")):
        found = sql_in(path.read_text("utf-8"))
        assert found == [], f"{path.relative_to(ROOT)} builds or runs SQL: {found}"


def test_the_sql_check_finds_a_query() -> None:
    source = "from sqlalchemy.orm import Session\nfrom sqlalchemy import select\n" \
             "conn.execute(select(1))\n"  # fmt: skip
    assert sql_in(source) == ["select", "execute (line 3)"]
    assert sql_in("from sqlalchemy.orm import Session\n") == []
