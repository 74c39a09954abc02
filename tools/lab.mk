# tools/lab.mk — manifest of tools/, in the same form as a lab's.
#
# LAB_ENGINES: the engines linked into kvctl (its generated registry lists
#   them, so `kvctl engines` shows them and `kvctl -e NAME` opens them).
#   Only model exists so far. Each later lab adds its engines here (e.g.
#   `LAB_ENGINES += hash`) and its library to LAB_LIBS (e.g.
#   `LAB_LIBS += $(LIBDIR)/libsprint-2-hash.a`), so kvctl reaches every engine.
LAB_ENGINES := model
