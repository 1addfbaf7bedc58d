"""三告 (函告、通告、报告): drafting, numbering and issuing the letters of the assessment (`service`), their pages
(`views`) and JSON twins (`api`)."""
