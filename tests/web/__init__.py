"""Tests of the browser-facing pages and files."""
