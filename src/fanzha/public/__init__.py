"""The public checker (公众识诈): a separate app with no personal data, deployable outside the police network."""
