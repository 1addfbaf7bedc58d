"""无诈社区 (fraud-free communities): each community's status from the rules file, and its page and API."""
