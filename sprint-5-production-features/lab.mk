# lab.mk — the manifest of sprint-5-production-features, read by the lab's
# Makefile and by the course tooling (the starter-kit generator, the grader).
#
# Parts (one folder each, see README.md):
#   distributed/  the Raft core (raft_log.c, raft_msg.c, raft.c), the node's
#                 storage (raft_storage.c) and driver (cluster_manager.c),
#                 engine raftsim (raft_engine.c), the simulator (sim/) and
#                 the linearizability checker (lincheck/). Its tests:
#                 distributed/tests/ (scenarios.c is the simulator's plain
#                 runner; the others are Criterion suites). Its mutants:
#                 distributed/mutants/NN-name.patch (Hint:, Bug:, a unified
#                 diff relative to the lab folder), every one caught by the
#                 lab's own tests.
#   api/, monitoring/, deployment/: later issues.
#
# LAB_ENGINES: raftsim, an in-process simulated cluster (nodes=, seed=, sm=,
#   snapshot_every=); raft, a client of a kvnode cluster on real processes
#   (distributed/client/raft_client.c; cluster=FILE, timeout_ms=,
#   rpc_timeout_ms=; see distributed/node/README.md). The conformance suite
#   is not run on raft: it needs a running cluster, and its durability,
#   crash and mode cases look for files under the path (a keyspace here).
# LAB_CONF_CONFIGS: the conformance suite on a 3-node raftsim cluster with
#   the default sync=none (the replicas defer their fsyncs to kv_sync and
#   kv_close, see raft_engine.c; the suite's sync=always cases fsync every
#   ready of every replica). The engine's snapshots and restarts are
#   covered by test_raftsim.c (snapshot_every=5 and 7): a second
#   configuration would double the suite's time in make test.
# STUDENT_FILES: the files a student edits, one per piece, each assignable
#   on its own as 6.5840's 3A-3D: election (distributed/raft_election.c:
#   the vote's log check, granting and counting votes), replication
#   (distributed/raft_replication.c: the follower's AppendEntries and the
#   Figure 8 commit rule), persistence (distributed/raft_storage.c: the
#   hard state's write and the torn tail's cut) and snapshots
#   (distributed/raft_snapshot.c: compaction and the follower's
#   InstallSnapshot). Each holds solution regions fenced
#   /* BEGIN SOLUTION */ ... /* END SOLUTION */ after a /* STUB: ... */
#   whose body replaces the region in the starter kit. The frame (raft.c),
#   the log, the messages, the node, the simulator and the checker are given.
#   The mutants of `make grade-tests` are in distributed/mutants/; each
#   names in its Tests: line the runners that catch it, so make test's
#   mutants check (--own --quick) runs only those.
LAB_ENGINES      := raftsim raft
LAB_CONF_CONFIGS := raftsim
STUDENT_FILES    := distributed/raft_election.c distributed/raft_replication.c \
                    distributed/raft_storage.c distributed/raft_snapshot.c
