"""Pieces shared by every domain: errors, validation of Chinese identity data, masking, times."""
