"""Follow-up tasks from closed reports (« fiches à corriger »)."""
