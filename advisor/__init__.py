"""Model portfolios, construction, allocation, diagnosis, rebalancing, batch jobs and the CLI."""
