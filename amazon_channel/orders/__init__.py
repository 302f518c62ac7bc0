"""Amazon orders: the sync from Amazon, the upsert, cancellation, address edits and the bridge
to Commerce in both directions."""
