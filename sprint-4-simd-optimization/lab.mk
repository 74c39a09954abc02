# lab.mk — the manifest of sprint-4-simd-optimization, read by the lab's
# Makefile and by the course tooling (the starter-kit generator, the grader).
#
# LAB_ENGINES: the engines this lab defines (kv_engine_<name>).
# LAB_CONF_CONFIGS: the conformance suite runs once per configuration.
LAB_ENGINES      := lsm
LAB_CONF_CONFIGS := lsm
