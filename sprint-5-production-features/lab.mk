# lab.mk — the manifest of sprint-5-production-features, read by the lab's
# Makefile and by the course tooling (the starter-kit generator, the grader).
#
# Parts (one folder each, see README.md):
#   distributed/  the Raft core (raft_log.c, raft_msg.c, raft.c), the node's
#                 storage (raft_storage.c) and driver (cluster_manager.c),
#                 engine raftsim (raft_engine.c), the simulator (sim/) and
#                 the linearizability checker (lincheck/). Its tests:
#                 distributed/tests/ (scenarios.c, scenarios_more.c and
#                 scenarios_member.c are the simulator's plain runners,
#                 sharing scenario_kit.h; the others are Criterion
#                 suites). Its mutants:
#                 distributed/mutants/NN-name.patch (Hint:, Bug:, a unified
#                 diff relative to the lab folder), every one caught by the
#                 lab's own tests.
#   api/, monitoring/, deployment/: later issues.
#
# LAB_ENGINES: raftsim, an in-process simulated cluster (nodes=, seed=, sm=,
#   snapshot_every=); raft, a client of a kvnode cluster on real processes
#   (distributed/client/raft_client.c; cluster=FILE, timeout_ms=,
#   rpc_timeout_ms=; see distributed/node/README.md). The conformance suite
#   runs on raft by `make conf-raft` (a fresh local cluster; minutes, so
#   not in make test): raft has KV_CAP_REMOTE, so the suite skips its file,
#   mode, damage and fault-env cases with that reason.
# LAB_CONF_CONFIGS: the conformance suite on a 3-node raftsim cluster with
#   the default state machine (cowbtree, sprint 3's, hence LAB_USES; its
#   store in DIR/nN/sm0.cow is rebuilt from the Raft log at open) and the
#   default sync=none (the replicas defer their fsyncs to kv_sync and
#   kv_close, see raft_engine.c; the suite's sync=always cases fsync every
#   ready of every replica). The engine's snapshots and restarts are
#   covered by test_raftsim.c (snapshot_every=5 and 7, on cowbtree and on
#   sm=model, which stays available): a second
#   configuration would double the suite's time in make test.
# STUDENT_FILES: the files a student edits, one per piece, each assignable
#   on its own as 6.5840's 3A-3D: election (distributed/raft_election.c:
#   the vote's log check, granting and counting votes), replication
#   (distributed/raft_replication.c: the follower's AppendEntries and the
#   Figure 8 commit rule), persistence (distributed/raft_storage.c: the
#   hard state's write and the torn tail's cut), snapshots
#   (distributed/raft_snapshot.c: compaction and the follower's
#   InstallSnapshot) and membership (distributed/raft_membership.c:
#   raft_conf_next, the rules of a change: one at a time, a learner
#   promoted once caught up; and raft_election.c's
#   raft_step_down_if_removed, a removed leader's step-down). Each holds solution regions fenced
#   /* BEGIN SOLUTION */ ... /* END SOLUTION */ after a /* STUB: ... */
#   whose body replaces the region in the starter kit. The frame (raft.c),
#   the log, the messages, the node, the simulator and the checker are given.
#   The mutants of `make grade-tests` are in distributed/mutants/; each
#   names in its Tests: line the runners that catch it, so make test's
#   mutants check (--own --quick) runs only those.
LAB_ENGINES      := raftsim raft
# cowbtree (sprint 3's library, LAB_USES) is raftsim's default state machine
LAB_ENGINES      += cowbtree
LAB_USES         := sprint-3-btree-storage
LAB_CONF_CONFIGS := raftsim
STUDENT_FILES    := distributed/raft_election.c distributed/raft_replication.c \
                    distributed/raft_storage.c distributed/raft_snapshot.c \
                    distributed/raft_membership.c
# Grading (tools/grade.py; docs/grading.md describes every variable). Every
#   test is worth one point, except the tests of given code, which an
#   untouched starter kit passes: they run and are reported, worth 0, so
#   the starter scores 0 and every point is earned by the student's pieces.
#   Given: the linearizability checker (test_lincheck.c: lincheck/*), the
#   configuration codec and the rule that non-voters never campaign
#   (test_membership.c: conf/codec_*, conf/non_voters_never_campaign), the
#   wire format and the cluster file (test_net.c: frame/*, msg/*, req/*,
#   resp/*, admin/*, cluster/*; fuzz_frame, the decoders' fuzz test), raft.c's
#   dispatch (step/garbage_is_ignored) and its CheckQuorum lease, which
#   drops a vote request before the student's vote handler sees it
#   (election/lease_ignores_vote_requests), the storage's append, snapshot
#   and record parsing (three storage/* tests; the hard state's write and
#   the torn tail's cut are the student's), and the conformance cases of
#   option parsing that fail before any node runs.
GRADE_POINTS := \
    default:1 \
    lincheck/*:0 \
    frame/*:0 msg/*:0 req/*:0 resp/*:0 admin/*:0 cluster/*:0 fuzz_frame:0 \
    step/garbage_is_ignored:0 \
    conf/codec_round_trip_and_rejects_malformed:0 conf/non_voters_never_campaign:0 \
    election/lease_ignores_vote_requests:0 \
    storage/append_replaces_the_suffix:0 \
    storage/corrupt_record_before_the_end_is_refused:0 \
    storage/snapshot_keeps_its_term_and_the_log_after_it:0 \
    conformance(*)/conf_basic/bad_boolean:0 \
    conformance(*)/conf_basic/bad_option_values:0 \
    conformance(*)/conf_basic/duplicate_option:0 \
    conformance(*)/conf_basic/strerror_distinct:0 \
    conformance(*)/conf_basic/unknown_engine:0 \
    conformance(*)/conf_basic/unknown_option_named:0 \
    conformance(*)/conf_limits/limit_beyond_engine_is_einval:0
