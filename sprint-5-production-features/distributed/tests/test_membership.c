/*
 * test_membership.c — single-server membership changes and learners,
 * driven by hand message by message (raft.h "Membership",
 * raft_membership.c). Each test targets a rule a student could get wrong:
 * a learner counted in a quorum, a second change while one is in flight, a
 * learner promoted before it caught up, a removed leader that keeps
 * leading or counts itself, a non-voter that campaigns, a configuration
 * that outlives the entry that set it (truncation), and a configuration
 * lost across a snapshot, InstallSnapshot or a restart (the storage).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "kvtest.h"
#include "raft.h"
#include "raft_node.h"
#include "raft_test.h"

/* Every core mk() makes is owned by the test (raft_test.h): a failing test
 * reports no leak. */
TestSuite(conf, .fini = kvt_release_owned);

static raft *mk(uint32_t id, uint32_t n)
{
    raft_config c;
    raft_config_default(&c, id, n, 7);
    return kvt_own(raft_new(&c, NULL), raft_free_owned);
}

/* Node `from` acknowledges the leader's log up to index. */
static void ack(raft *r, uint32_t from, uint64_t index, box *b)
{
    raft_msg m = { .type = RAFT_MSG_APPEND_RESP, .from = from, .to = raft_get_id(r),
                   .term = raft_get_term(r), .index = index };
    raft_step(r, &m);
    drain(r, b);
}

/* A leader of the voters 0, 1, 2 with its NOOP committed (acked by 1). */
static raft *leader3(box *b)
{
    raft *r = mk(0, 3);
    elect(r, 3, b);
    clear(b);
    ack(r, 1, raft_get_last_index(r), b);
    cr_assert_eq(raft_get_commit(r), raft_get_last_index(r));
    clear(b);
    return r;
}

Test(conf, codec_round_trip_and_rejects_malformed)
{
    raft_membership c = { .voters = 0x105, .learners = 0x0a }, d;
    uint8_t buf[RAFT_CONF_LEN];
    raft_conf_encode(&c, buf);
    cr_assert_eq(raft_conf_decode(buf, sizeof buf, &d), 0);
    cr_assert_eq(d.voters, c.voters);
    cr_assert_eq(d.learners, c.learners);
    cr_assert_eq(raft_conf_decode(buf, sizeof buf - 1, &d), -1, "short data accepted");
    uint8_t bad[RAFT_CONF_LEN];
    memcpy(bad, buf, sizeof bad);
    bad[0] = 9;
    cr_assert_eq(raft_conf_decode(bad, sizeof bad, &d), -1, "unknown version accepted");
    raft_membership none = { .voters = 0, .learners = 1 };
    raft_conf_encode(&none, bad);
    cr_assert_eq(raft_conf_decode(bad, sizeof bad, &d), -1, "no voter accepted");
    raft_membership both = { .voters = 3, .learners = 2 };
    raft_conf_encode(&both, bad);
    cr_assert_eq(raft_conf_decode(bad, sizeof bad, &d), -1, "a node both voter and learner");
    raft_membership big = { .voters = 1u << RAFT_MAX_NODES, .learners = 0 };
    raft_conf_encode(&big, bad);
    cr_assert_eq(raft_conf_decode(bad, sizeof bad, &d), -1, "a node >= RAFT_MAX_NODES");
}

Test(conf, learner_never_counts_in_a_quorum)
{
    box b = { 0 };
    raft *r = leader3(&b);
    uint64_t ci;
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_ADD_LEARNER, 3, &ci), 0);
    drain(r, &b);
    cr_assert(find(&b, RAFT_MSG_APPEND, 3), "the new learner is not sent the log");
    ack(r, 1, ci, &b);
    cr_assert_eq(raft_get_commit(r), ci);
    uint64_t x;
    cr_assert_eq(raft_propose(r, "x", 1, &x, NULL), 0);
    drain(r, &b);
    ack(r, 3, x, &b); /* the leader and the learner: two of four nodes, one of three voters */
    cr_assert_lt(raft_get_commit(r), x, "committed with the learner counted as a voter");
    ack(r, 2, x, &b);
    cr_assert_eq(raft_get_commit(r), x);
    clear(&b);
    raft_free(r);
}

Test(conf, one_change_at_a_time)
{
    box b = { 0 };
    raft *r = leader3(&b);
    uint64_t ci;
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_ADD_LEARNER, 3, &ci), 0);
    drain(r, &b);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_REMOVE, 2, NULL), RAFT_CONF_EBUSY,
                 "a second change while the first is not committed");
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_ADD_LEARNER, 4, NULL), RAFT_CONF_EBUSY);
    raft_membership c;
    cr_assert_eq(raft_get_membership(r, &c), ci);
    cr_assert_eq(c.voters, 7u);
    cr_assert_eq(c.learners, 1u << 3, "the change is in force from its append");
    ack(r, 2, ci, &b);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_REMOVE, 2, &ci), 0);
    drain(r, &b);
    raft_get_membership(r, &c);
    cr_assert_eq(c.voters, 3u);
    /* Bad requests are refused whatever the state. */
    ack(r, 1, ci, &b);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_ADD_LEARNER, 1, NULL), RAFT_CONF_EINVAL);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_PROMOTE, 1, NULL), RAFT_CONF_EINVAL);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_REMOVE, 5, NULL), RAFT_CONF_EINVAL);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_ADD_LEARNER, RAFT_MAX_NODES, NULL),
                 RAFT_CONF_EINVAL);
    cr_assert_eq(raft_change_conf(r, 99, 5, NULL), RAFT_CONF_EINVAL);
    clear(&b);
    raft_free(r);
}

Test(conf, needs_a_commit_of_its_own_term)
{
    box b = { 0 };
    raft *r = mk(0, 3);
    elect(r, 3, &b); /* the NOOP of its term is not committed yet */
    clear(&b);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_ADD_LEARNER, 3, NULL), RAFT_CONF_EBUSY);
    raft *f = mk(1, 3);
    cr_assert_eq(raft_change_conf(f, RAFT_CONF_ADD_LEARNER, 3, NULL), RAFT_CONF_ENOTLEADER);
    raft_free(f);
    clear(&b);
    raft_free(r);
}

Test(conf, learner_promoted_only_once_caught_up)
{
    box b = { 0 };
    raft *r = leader3(&b);
    uint64_t ci, x;
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_ADD_LEARNER, 3, &ci), 0);
    drain(r, &b);
    ack(r, 1, ci, &b);
    cr_assert_eq(raft_propose(r, "y", 1, &x, NULL), 0);
    drain(r, &b);
    ack(r, 1, x, &b);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_PROMOTE, 3, NULL), RAFT_CONF_ENOTREADY,
                 "promoted a learner that holds nothing");
    ack(r, 3, x - 1, &b);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_PROMOTE, 3, NULL), RAFT_CONF_ENOTREADY,
                 "promoted a learner behind the commit index");
    ack(r, 3, x, &b);
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_PROMOTE, 3, &ci), 0);
    drain(r, &b);
    raft_membership c;
    raft_get_membership(r, &c);
    cr_assert_eq(c.voters, 0xfu);
    cr_assert_eq(c.learners, 0u);
    ack(r, 1, ci, &b); /* four voters: a quorum is three */
    cr_assert_lt(raft_get_commit(r), ci, "committed by two of four voters");
    ack(r, 3, ci, &b);
    cr_assert_eq(raft_get_commit(r), ci);
    clear(&b);
    raft_free(r);
}

Test(conf, removed_leader_steps_down_after_the_commit)
{
    box b = { 0 };
    raft *r = leader3(&b);
    uint64_t ci;
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_REMOVE, 0, &ci), 0);
    drain(r, &b);
    ack(r, 1, ci, &b); /* voters {1, 2}: the leader's own copy no longer counts */
    cr_assert_lt(raft_get_commit(r), ci, "a removed leader counted itself");
    cr_assert_eq(raft_get_role(r), RAFT_LEADER, "stepped down before the removal committed");
    clear(&b);
    ack(r, 2, ci, &b);
    cr_assert_eq(raft_get_commit(r), ci);
    cr_assert_neq(raft_get_role(r), RAFT_LEADER, "a removed leader keeps leading");
    cr_assert(find(&b, RAFT_MSG_TIMEOUT_NOW, 1) || find(&b, RAFT_MSG_TIMEOUT_NOW, 2),
              "no hand-over to a remaining voter");
    for (int i = 0; i < 500; i++)
        raft_tick(r);
    drain(r, &b);
    cr_assert_eq(raft_get_role(r), RAFT_FOLLOWER, "a removed node campaigns");
    clear(&b);
    raft_free(r);
}

Test(conf, non_voters_never_campaign)
{
    raft *r = mk(3, 3); /* a fresh node outside the cluster 0, 1, 2 */
    box b = { 0 };
    for (int i = 0; i < 500; i++)
        raft_tick(r);
    drain(r, &b);
    cr_assert_eq(raft_get_role(r), RAFT_FOLLOWER);
    cr_assert_eq(b.n, 0, "a node outside the cluster sent %zu messages", b.n);
    raft_msg m = { .type = RAFT_MSG_TIMEOUT_NOW, .from = 0, .to = 3, .term = 0 };
    raft_step(r, &m);
    drain(r, &b);
    cr_assert_eq(raft_get_role(r), RAFT_FOLLOWER, "a non-voter obeyed TIMEOUT_NOW");
    clear(&b);
    raft_free(r);
}

/* A follower obeys a CONF entry from its append, and forgets it when a new
 * leader overwrites that entry. */
Test(conf, follower_follows_its_log_including_truncation)
{
    raft *r = mk(1, 3);
    box b = { 0 };
    raft_membership want = { .voters = 7, .learners = 1u << 4 }, c;
    uint8_t data[RAFT_CONF_LEN];
    raft_conf_encode(&want, data);
    raft_entry e[2] = { { .term = 1, .index = 1, .type = RAFT_ENTRY_NOOP },
                        { .term = 1, .index = 2, .type = RAFT_ENTRY_CONF, .len = RAFT_CONF_LEN,
                          .data = data } };
    raft_msg m = { .type = RAFT_MSG_APPEND, .from = 0, .to = 1, .term = 1, .n_entries = 2,
                   .entries = e };
    raft_step(r, &m);
    drain(r, &b);
    cr_assert_eq(raft_get_membership(r, &c), 2);
    cr_assert_eq(c.learners, 1u << 4, "a CONF entry not in force from its append");
    raft_entry e2 = { .term = 2, .index = 2, .type = RAFT_ENTRY_NOOP };
    raft_msg m2 = { .type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 2, .index = 1,
                    .log_term = 1, .n_entries = 1, .entries = &e2 };
    raft_step(r, &m2);
    drain(r, &b);
    cr_assert_eq(raft_get_term_at(r, 2), 2);
    cr_assert_eq(raft_get_membership(r, &c), 0);
    cr_assert_eq(c.voters, 7u);
    cr_assert_eq(c.learners, 0u, "the configuration outlived its truncated entry");
    clear(&b);
    raft_free(r);
}

/* The configuration survives compaction, InstallSnapshot and a restart. */
Test(conf, snapshot_carries_the_configuration)
{
    box b = { 0 };
    raft *r = leader3(&b);
    uint64_t ci;
    cr_assert_eq(raft_change_conf(r, RAFT_CONF_ADD_LEARNER, 5, &ci), 0);
    drain(r, &b);
    ack(r, 1, ci, &b);
    cr_assert_eq(b.last_applied, ci);
    cr_assert_eq(raft_compact(r, ci, "S", 1), 0);
    raft_membership c;
    raft_get_membership(r, &c);
    cr_assert_eq(c.learners, 1u << 5, "compaction lost the configuration");
    clear(&b);
    /* Learner 5 is far behind: the leader sends it the snapshot. */
    raft_msg rej = { .type = RAFT_MSG_APPEND_RESP, .from = 5, .to = 0, .term = raft_get_term(r),
                     .reject = true, .index = ci, .hint_index = 1 };
    raft_step(r, &rej);
    drain(r, &b);
    const raft_msg *s = find(&b, RAFT_MSG_SNAPSHOT, 5);
    cr_assert(s, "no snapshot sent");
    raft *l = mk(5, 3);
    box lb = { 0 };
    raft_msg sm;
    raft_msg_copy(&sm, s);
    raft_step(l, &sm);
    raft_msg_free(&sm);
    drain(l, &lb);
    cr_assert(lb.snap);
    cr_assert_eq(lb.snap_conf.voters, 7u);
    cr_assert_eq(lb.snap_conf.learners, 1u << 5, "InstallSnapshot lost the configuration");
    raft_get_membership(l, &c);
    cr_assert_eq(c.learners, 1u << 5);
    /* The storage keeps it, and a node restarted from it obeys it. */
    kv_env *env = kv_env_fault_new(3);
    raft_storage *st;
    raft_boot boot;
    cr_assert_eq(raft_storage_open(env, "/n", &st, &boot), KV_OK);
    raft_boot_free(&boot);
    raft_snapshot snap = { .index = ci, .term = raft_get_term(r), .len = 1,
                           .data = (uint8_t *)"S", .conf = lb.snap_conf };
    cr_assert_eq(raft_storage_save_snapshot(st, &snap, NULL, 0), KV_OK);
    raft_storage_close(st);
    cr_assert_eq(raft_storage_open(env, "/n", &st, &boot), KV_OK);
    cr_assert_eq(boot.snap.conf.voters, 7u);
    cr_assert_eq(boot.snap.conf.learners, 1u << 5, "the storage lost the configuration");
    raft_config cfg;
    raft_config_default(&cfg, 5, 3, 7);
    raft *l2 = kvt_own(raft_new(&cfg, &boot), raft_free_owned);
    raft_get_membership(l2, &c);
    cr_assert_eq(c.learners, 1u << 5, "a restarted node forgot the configuration");
    raft_free(l2);
    raft_boot_free(&boot);
    raft_storage_close(st);
    kv_env_free(env);
    clear(&lb);
    clear(&b);
    raft_free(l);
    raft_free(r);
}
