"""From a content change to the surrogate keys whose cached responses it makes stale.

A change names the rows it touched (``ContentChanged``). Stale are the responses that read one
of those rows, and the lists that the changed posts could now enter or leave:

- every list of posts not scoped to one parent (``posts-list``), since any filter may match;
- the post lists of the posts' tags and author, as they are *now*: the writer names the tags
  and author a post had before the change, and the database tells which it has after;
- for changed tags and authors, their own lists (``tags-list``, ``authors-list``), which a new
  or renamed one enters, and the post lists under them.

Responses that could not say what they read (``untracked``) go with every change.
"""

from __future__ import annotations

import logging

from cms.cache.tracking import (
    AUTHORS_LIST,
    POSTS_LIST,
    TAGS_LIST,
    UNTRACKED,
    author_key,
    author_posts_key,
    post_key,
    tag_key,
    tag_posts_key,
)
from cms.models import Post, PostTag
from cms.services.events import ContentChanged

logger = logging.getLogger("cms.cache")


async def stale_keys(event: ContentChanged) -> set[str]:
    """The surrogate keys to purge after ``event`` (reads the posts' current tags and author)."""
    keys = {UNTRACKED}
    tag_lists = set(event.tag_ids)
    author_lists = set(event.author_ids)
    if event.post_ids:
        post_ids = sorted(event.post_ids)
        keys.add(POSTS_LIST)
        keys.update(post_key(post_id) for post_id in post_ids)
        links = await PostTag.filter(post_id__in=post_ids).values("tag_id")
        posts = await Post.filter(id__in=post_ids).values("author_id")
        tag_lists.update(int(link["tag_id"]) for link in links)
        author_lists.update(int(post["author_id"]) for post in posts)
    if event.tag_ids:
        keys.add(TAGS_LIST)
        keys.update(tag_key(tag_id) for tag_id in event.tag_ids)
    if event.author_ids:
        keys.add(AUTHORS_LIST)
        keys.update(author_key(author_id) for author_id in event.author_ids)
    keys.update(tag_posts_key(tag_id) for tag_id in tag_lists)
    keys.update(author_posts_key(author_id) for author_id in author_lists)
    return keys
