"""One module per workflow phase; each reads top to bottom as the runbook's list of ensures."""
