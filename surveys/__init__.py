"""The survey domain: definitions, pulse planning, validation, summaries. Knows no chat platform."""
