"""The demo county: a generated, realistic 江州市 so every page has real-looking data on first run."""
