# Convenience wrappers around dev.sh (which needs only bash and Python 3.11+).
.PHONY: demo test docs bench setup
demo test docs bench setup:
	bash dev.sh $@
