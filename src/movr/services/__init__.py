"""Domain operations: plain functions taking a Session first; they never commit."""
