"""Outgoing webhooks: each board's event log delivered, signed, in seq order and at least
once, to the URLs its admins register. ``worker.WebhookWorker`` runs in every instance;
a lease in the store makes one instance at a time deliver each webhook."""
