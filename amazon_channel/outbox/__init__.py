"""Messages to Amazon: queued in the outbox, delivered by the API or in feeds, under leases."""
