"""The Liaison store: encrypted records, officers, rules and queries. Never imports textual or tui."""
