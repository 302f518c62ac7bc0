"""Stores: connecting, settings, schedules, credentials and the store's event log."""
