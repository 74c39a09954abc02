/*
 * kvctl_cluster.c — `kvctl cluster status|add|remove`: what each node of a
 * kvnode cluster reports about itself, and membership changes (engine raft
 * only).
 *
 *   kvctl -e raft:cluster=DIR/cluster.conf cluster status
 *   kvctl -e raft:cluster=DIR/cluster.conf cluster add NODE
 *   kvctl -e raft:cluster=DIR/cluster.conf cluster remove NODE
 *
 * One line per node, in the cluster file's order: its role, term, the
 * leader it knows, its commit and applied indexes, its last log index and
 * snapshot index, and at the leader the match index of every node; a node
 * that does not answer within 200 ms is printed unreachable. The status is
 * read from each node directly (no leader needed), so it works during an
 * election and shows it, with the configuration each node knows (voters=,
 * learners=). Exit status 0 when a leader was found, 3 when not.
 *
 * `cluster add NODE` makes node NODE (its line in the cluster file, from 0)
 * a voter: the leader adds it as a learner and promotes it once it has
 * caught up; `cluster remove NODE` takes it out (kv_raft_change_member(),
 * an admin frame to the leader). Each waits up to 30 s, or timeout_ms=
 * when the engine string sets it. Exit status 0 when done (or nothing was
 * to do: already a voter), 1 when refused or not done in time (unknown
 * node, another change in flight, no leader), with the reason on stderr.
 *
 * Callers must pass a handle opened with engine raft (kvctl checks the
 * engine's name first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvctl_cluster.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "raft_net.h"

#define CHANGE_MS 30000u

/* `cluster add|remove NODE`. */
static int change(kv_db *db, const char *engine, const char *what, const char *arg)
{
    char *end;
    unsigned long node = strtoul(arg, &end, 10);
    if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || node >= RAFT_MAX_NODES) {
        fprintf(stderr, "kvctl: cluster %s: NODE is a node id, 0 .. %d (its line in the "
                        "cluster file, from 0), not '%s'\n", what, RAFT_MAX_NODES - 1, arg);
        return 2;
    }
    unsigned timeout = CHANGE_MS;
    for (const char *t = strstr(engine, "timeout_ms="); t; t = strstr(t + 1, "timeout_ms="))
        if ((t[-1] == ':' || t[-1] == ',') && strtoul(t + 11, NULL, 10) > 0) /* not rpc_... */
            timeout = (unsigned)strtoul(t + 11, NULL, 10);
    char msg[256];
    int op = what[0] == 'a' ? KVN_ADMIN_ADD : KVN_ADMIN_REMOVE;
    int rc = kv_raft_change_member(db, op, (uint32_t)node, timeout, msg, sizeof msg);
    if (rc != KV_OK) {
        fprintf(stderr, "kvctl: cluster %s %lu: %s\n", what, node, kv_last_error());
        return 1;
    }
    printf("%s\n", msg[0] ? msg : "done");
    return 0;
}

int kvctl_cluster(kv_db *db, const char *engine, int argc, char **argv)
{
    if (strncmp(engine, "raft", 4) != 0 || (engine[4] != '\0' && engine[4] != ':')) {
        fprintf(stderr, "kvctl: cluster: works on engine raft only, not '%s'\n", engine);
        return 3;
    }
    if (argc == 2 && (strcmp(argv[0], "add") == 0 || strcmp(argv[0], "remove") == 0))
        return change(db, engine, argv[0], argv[1]);
    if (argc != 1 || strcmp(argv[0], "status") != 0) {
        fprintf(stderr, "kvctl: usage: kvctl -e raft:cluster=FILE cluster status|add NODE|"
                        "remove NODE\n");
        return 2;
    }
    int leaders = 0;
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++) {
        char line[512];
        int rc = kv_raft_node_status(db, i, line, sizeof line);
        if (rc == KV_EINVAL)
            break; /* past the last node */
        if (rc == KV_OK) {
            printf("node %u: %s\n", i, line);
            leaders += strstr(line, "role=leader") != NULL;
        } else {
            printf("node %u: unreachable (%s)\n", i, kv_last_error());
        }
    }
    if (leaders == 0)
        fprintf(stderr, "kvctl: cluster: no node is leader now (an election, or no quorum)\n");
    return leaders ? 0 : 3;
}
