"""What the services tell every instance: events and notifications published on broker
channels, board deletions, ended sessions. Services and the webhook worker publish here;
the channel names are the hubs' own (``app.realtime.channels``), imported from below."""
