/*
 * kvctl_cluster.c — `kvctl cluster status`: what each node of a kvnode
 * cluster reports about itself (engine raft only).
 *
 *   kvctl -e raft:cluster=DIR/cluster.conf cluster status
 *
 * One line per node, in the cluster file's order: its role, term, the
 * leader it knows, its commit and applied indexes, its last log index and
 * snapshot index, and at the leader the match index of every node; a node
 * that does not answer within 200 ms is printed unreachable. The status is
 * read from each node directly (no leader needed), so it works during an
 * election and shows it. Exit status 0 when a leader was found, 3 when not.
 *
 * Membership change (cluster add/remove) waits for the core's joint
 * consensus: the Raft core's configuration is fixed at start.
 *
 * Callers must pass a handle opened with engine raft (kvctl checks the
 * engine's name first).
 */
#include <stdio.h>
#include <string.h>

#include "kvctl_cluster.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "raft_net.h"

int kvctl_cluster(kv_db *db, const char *engine, int argc, char **argv)
{
    if (strncmp(engine, "raft", 4) != 0 || (engine[4] != '\0' && engine[4] != ':')) {
        fprintf(stderr, "kvctl: cluster: works on engine raft only, not '%s'\n", engine);
        return 3;
    }
    if (argc != 1 || strcmp(argv[0], "status") != 0) {
        fprintf(stderr, "kvctl: usage: kvctl -e raft:cluster=FILE cluster status\n");
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
