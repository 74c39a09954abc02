# lab.mk — the manifest of sprint-5-production-features, read by the lab's
# Makefile and by the course tooling.
LAB_ENGINES      := raftsim
