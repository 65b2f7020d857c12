"""What the bank's operations team watches: health and readiness, metrics, job heartbeats."""

# What the load balancer and Prometheus ask every few seconds: no session is read for them, and
# an answer is logged at DEBUG only.
PROBE_ENDPOINTS = frozenset({"monitoring.healthz", "monitoring.readyz", "metrics"})
