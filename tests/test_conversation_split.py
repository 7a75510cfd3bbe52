"""The engine split (issue 10): routing, rendering and round administration are units a
reader finds by name; `Conversation` stays the facade every other module imports."""

from __future__ import annotations

import ast
import inspect

from bot import pulse_render
from bot.conversation import Conversation
from surveys.definition import Survey
from tests.test_layers import QUERY_WORDS, ROOT, cycles, graph

PARTS = ("routing", "pulse_flow", "pulse_render", "round_admin", "quote_consent", "engine_base",
         "conversation")  # fmt: skip
FACADE = ("handle", "respond", "greet", "duplicate_reply", "first_contact", "next_step",
          "open_round", "open_round_in", "close_round", "close_round_in",
          "run_round_closed_hooks", "ensure_invitation", "queue", "set_language",
          "question_text")  # fmt: skip


def test_the_facade_keeps_every_public_method_others_call() -> None:
    for name in FACADE:
        assert callable(getattr(Conversation, name, None)), name
    params = list(inspect.signature(Conversation.open_round).parameters)
    assert params == ["self", "now", "days"]
    assert list(inspect.signature(Conversation.queue).parameters)[-1] == "kind"


def test_each_part_is_small_and_the_facade_only_delegates() -> None:
    sizes = {p: len((ROOT / "bot" / f"{p}.py").read_text("utf-8").splitlines()) for p in PARTS}
    assert max(sizes.values()) < 340, sizes
    # Every method of the facade is a few lines: the work is done in the parts.
    tree = ast.parse((ROOT / "bot" / "conversation.py").read_text("utf-8"))
    facade = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Conversation")
    for method in facade.body:
        if isinstance(method, ast.FunctionDef) and method.name != "__init__":
            body = [s for s in method.body if not isinstance(s, ast.Expr)]  # docstrings aside
            assert len(body) <= 7, method.name


def test_the_parts_leave_queries_to_storage_and_form_no_cycle() -> None:
    for name in PARTS:
        tree = ast.parse((ROOT / "bot" / f"{name}.py").read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy":
                assert not {a.name for a in node.names} & QUERY_WORDS, name
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("execute", "scalars", "scalar"), (name, node.lineno)
    edges = graph("bot")
    assert "bot.routing" in edges and "bot.round_admin" in edges
    assert cycles(edges) == []
    # The parts never import the facade at run time (only for type hints).
    for part in ("bot.routing", "bot.pulse_flow", "bot.pulse_render", "bot.round_admin",
                 "bot.quote_consent"):  # fmt: skip
        assert "bot.conversation" not in edges[part], part


def test_no_part_refers_back_to_the_facade_even_for_type_hints() -> None:
    for part in ("routing", "pulse_flow", "pulse_render", "round_admin", "quote_consent",
                 "engine_base"):  # fmt: skip
        tree = ast.parse((ROOT / "bot" / f"{part}.py").read_text("utf-8"))
        for node in ast.walk(tree):  # also under `if TYPE_CHECKING:`
            if isinstance(node, ast.ImportFrom):
                assert node.module != "bot.conversation", part
            if isinstance(node, ast.Import):
                assert "bot.conversation" not in {a.name for a in node.names}, part


def test_rendering_needs_no_engine_or_database(survey: Survey) -> None:
    question = survey.question(survey.factor_ids[0] + ".exp")
    text = pulse_render.question_text(question, "nn", 3, 7)
    assert text.startswith("(3 av 7)") and "Kor mykje" in text
    buttons = pulse_render.choices(question, "tok", "nb", skippable=False)
    assert [c.data for c in buttons] == [f"tok:{v}" for v in question.scale.values()]
    # The follow-up is inserted only after the answer that asks for it, and has no number.
    plan = ["quit"]
    assert pulse_render.expanded(survey, plan, {"quit": 1}) == ["quit", "quit_text"]
    assert pulse_render.expanded(survey, plan, {"quit": 0}) == ["quit"]
    assert pulse_render.counter(plan, "quit_text") == (None, None)
