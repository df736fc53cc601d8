"""What the Metrics page reads beside the platform's series: cost from instance time,
cold starts and their phases from the service log, the console's own failed pages, and
vLLM's gauges sampled from a remote service."""
