"""Saved client selections (« sélections ») for campaigns."""
