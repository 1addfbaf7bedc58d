# Shortcuts for ./dev (which needs nothing but bash and Python).
.PHONY: run test setup
run:
	./dev run
test:
	./dev test
setup:
	./dev setup test
