"""The model's agents: firms (one row each of the firm table), the three authorities, the
cluster management company and universities."""
