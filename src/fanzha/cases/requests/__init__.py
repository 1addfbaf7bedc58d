"""快速查询/止付/冻结 requests: raised on a warning, answered from the centre's queue, with minute deadlines."""
