"""Case statistics (案件研判): figures for any node of either hierarchy and any period, from an exact roll-up."""
