"""What the bank's operations team watches: health and readiness, metrics, job heartbeats."""
