"""宣传覆盖目标 (coverage targets): what counts toward a target, per community, and its pages."""
