"""知识测试 (knowledge tests) and the public self-test: the question bank, tests, attempts, pages and API."""
