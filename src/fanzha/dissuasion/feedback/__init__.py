"""反馈: the provincial feedback file (反馈表) built from the dissuaders' contacts and outcomes, sent up and read back."""
