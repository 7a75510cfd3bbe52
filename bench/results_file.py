"""bench/RESULTS.md as the benchmarks that write it see it: one section each, by heading."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


def put_section(section: str, body: str, path: Path = RESULTS) -> None:
    """Replace the section that starts with the heading `section` (up to the next `## `) by
    `body`, or add `body` at the end when there is no such section yet."""
    text = path.read_text("utf-8") if path.exists() else "# Benchmark results\n"
    if section in text:
        start = text.index(section)
        end = text.find("\n## ", start + len(section))
        text = text[:start] + body + (text[end + 1 :] if end != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    path.write_text(text, "utf-8")
