"""Consent proof (who, when, which store, how) for a client's SMS consent changes."""
