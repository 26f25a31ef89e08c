"""Post-mortems published as Confluence pages."""
