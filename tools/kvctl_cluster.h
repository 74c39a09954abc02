/*
 * kvctl_cluster.h — private to tools/: `kvctl cluster status|add|remove`
 * (kvctl_cluster.c), called from kvctl.c's command table.
 */
#ifndef KVLABS_KVCTL_CLUSTER_H
#define KVLABS_KVCTL_CLUSTER_H

#include "kvlabs/kv.h"

/* Run `cluster ARGS` on a handle of engine `engine` ("raft[:opts]");
 * returns kvctl's exit status (0, 2 usage, 3 engine). */
int kvctl_cluster(kv_db *db, const char *engine, int argc, char **argv);

#endif /* KVLABS_KVCTL_CLUSTER_H */
