"""The hash-chained audit trail every service writes to (shared by all apps, so it owns no domain)."""
