# common/lab.mk — manifest of the shared library, in the same form as a lab's.
#
# LAB_ENGINES: the engines defined here (the registry of common's own test
#   programs lists them). model is the oracle every lab's differential tests use.
# LAB_CONF_CONFIGS: the (engine:options) configurations the conformance suite
#   runs on in `make test`.
LAB_ENGINES      := model
LAB_CONF_CONFIGS := model model:durable=true
