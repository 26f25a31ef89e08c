"""Action items as tickets in Jira or Linear, and the tracker's word back through its webhooks."""
