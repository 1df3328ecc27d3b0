"""Email: the SMTP sender, rendering, signed unsubscribe links and the outbox worker
(docs/notifications.md)."""
