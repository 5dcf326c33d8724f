"""Use cases shared by views, jobs and the CLI. They take ids and plain values, and commit."""
