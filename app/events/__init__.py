"""What the services tell every instance: events and notifications published on broker
channels, board deletions, ended sessions. Services and the webhook worker publish here;
the hubs (``app.realtime``) subscribe to the same channel names."""
