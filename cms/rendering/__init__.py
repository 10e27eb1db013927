"""Markdown to safe HTML and plain text, below both the domain and the content formats.

- ``markdown``  the renderer itself: HTML with raw HTML escaped, plain text, anchors, bounds
- ``workers``   ``render_bodies``: rendering at write time, off the event loop, bounded in time
"""
