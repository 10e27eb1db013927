"""Webhooks in the domain: what is owed to whom, written in the writer's own transaction.

- ``events``  the webhook event names and the content changes that raise them
- ``outbox``  ``enqueue_webhook_events``: writers call it inside their transaction
- ``urls``    which URLs may be called (http(s), public addresses only: SSRF)
- ``manage``  create, update, delete and redeliver (``webhooks.manage``)

Sending is not here: ``cms.webhooks`` holds the dispatcher, which reads the outbox.
"""
