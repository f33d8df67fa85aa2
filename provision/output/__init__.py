"""What a person reads: tables, progress on stderr, and plan changes in config terms."""
