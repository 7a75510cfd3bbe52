"""The summary's colours, shared by the chart (matplotlib) and the dashboard (SVG), so the
dashboard does not load matplotlib to know them."""

EXPERIENCED = "#1f77b4"
IMPORTANCE = "#222222"
GAP = "#d62728"  # importance above experience: a gap to work on
SURPLUS = "#2ca02c"  # experienced above importance: not the same red
