# layers.mk — sprint 5's parts and, in each part, its layers, lowest first:
# every file of the lab library calls only files of lower layers of its part
# or of lower parts (and common/). scripts/layering_check.py reads this (and
# lab.mk) in `make test` (tools/tests/layering_test.sh); DESIGN.md §1.
#
# A layer is one file or several comma-separated siblings (which may not call
# each other); here every layer is one file, so the order alone is checked.
# Names are basenames. distributed/README.md lists the same layers in prose
# (the Raft core's also in distributed/raft_int.h).
LAYER_PARTS := distributed
# the Raft core: the log, the messages, the configuration, what the pieces
# share, replication (with the snapshot's chunks), snapshots, elections,
# the frame; then the node's disk, the node, engine raftsim; the
# simulator's safety checker, the simulator, the checker of histories; the
# wire, the node daemon's state machine, membership changes and loop, the
# client engine raft
LAYERS_distributed := raft_log.c raft_msg.c raft_membership.c raft_core.c \
                      raft_replication.c raft_snapshot.c raft_election.c raft.c \
                      raft_storage.c cluster_manager.c raft_engine.c \
                      raft_sim_check.c raft_sim.c raft_lincheck.c \
                      net_frame.c kvnode_sm.c kvnode_admin.c kvnode_member.c kvnode_loop.c \
                      raft_client.c
