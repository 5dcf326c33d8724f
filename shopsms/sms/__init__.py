"""SMS domain core: encoding and parts, phone numbers, sender id, generic expressions,
STOP mention and cost. Pure Python on purpose (no Flask, no database) so that views,
jobs and the CLI all apply exactly the same rules."""
