"""Reporters: turn analysis results into text, JSON, SARIF, ... (no analysis here)."""
